using ConnectorEvents.Contracts;
using ConnectorEvents.Receiver;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddConnectorEventsReceiver(options =>
{
    // The client's signing secret(s) from configuration, e.g. Webhooks__SigningSecrets__0=whsec_...
    foreach (var secret in builder.Configuration.GetSection("Webhooks:SigningSecrets").Get<string[]>() ?? [])
    {
        options.SigningSecrets.Add(secret);
    }
    // A client that signs with Ed25519 (v1a) shows a public key instead, e.g. Webhooks__PublicKeys__0=whpk_...
    foreach (var publicKey in builder.Configuration.GetSection("Webhooks:PublicKeys").Get<string[]>() ?? [])
    {
        options.PublicKeys.Add(publicKey);
    }
    options.UrlToken = builder.Configuration["Webhooks:UrlToken"];

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
