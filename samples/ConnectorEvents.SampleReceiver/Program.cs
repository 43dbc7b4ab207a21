using ConnectorEvents.Contracts;
using ConnectorEvents.Receiver;

var builder = WebApplication.CreateBuilder(args);

// The section "Webhooks" (appsettings.json, or the environment) holds the receiver's settings:
//   Webhooks__SigningSecrets__0=whsec_...   the client's signing secret (v1, HMAC)
//   Webhooks__PublicKeys__0=whpk_...        or its Ed25519 public key (v1a)
//   Webhooks__UrlToken=...                  the ?Token= the client's URL carries; requests without it get 401
// A missing secret stops the start with an error naming Webhooks:SigningSecrets.
builder.Services.AddConnectorEventsReceiver(builder.Configuration.GetSection("Webhooks"), options =>
{
    options.OnIntegrationCreated((evt, ct) =>
    {
        Console.WriteLine($"{evt.WebhookId}: {evt.Data.Enterprise.Name} connected {evt.Data.Integration.Name} ({evt.Versions})");
        return Task.CompletedTask;
    });
    options.OnGeneralEvent(GeneralDiscriminators.ServiceOrderUpdated, (evt, ct) =>
    {
        Console.WriteLine($"{evt.WebhookId}: reservation {evt.Data.EntityId} changed; fetch it from the Connector API");
        return Task.CompletedTask;
    });
});

var app = builder.Build();
app.MapConnectorWebhooks("/webhooks");
app.Run();
