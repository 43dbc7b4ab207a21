using ConnectorEvents.Contracts;
using System.Text.Json;
using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

public static class ClientEndpoints
{
    public static void MapClients(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/clients").WithTags("Integration clients");

        group.MapPost("/", async Task<Created<ClientResponse>> (
            HttpRequest request, ClientService clients, NetworkPolicy policy, IConnectorStore store, TimeProvider time) =>
        {
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateClientRequest);
            var name = RequireName(body.Name);
            var created = await clients.CreateAsync(name,
                CheckWebhookUrl(body.IntegrationWebhookUrl, "IntegrationWebhookUrl", policy),
                CheckWebhookUrl(body.GeneralWebhookUrl, "GeneralWebhookUrl", policy),
                body.ContractVersion is null ? null : ParseContractVersion(body.ContractVersion),
                body.SigningScheme is null ? SigningScheme.Hmac : ParseSigningScheme(body.SigningScheme));
            // An Ed25519 secret stays here; the integrator gets its public key.
            var hmacSecret = created.Client.SigningScheme == SigningScheme.Hmac ? created.SigningSecret : null;
            return TypedResults.Created($"/api/v1/clients/{created.Client.Id}",
                Response(created.Client, store, time, created.ClientToken, hmacSecret));
        }).Accepts<CreateClientRequest>("application/json").WithName("CreateClient").WithSummary("Create an integration client")
            .WithDescription("Creates an integration client. The answer carries its ClientToken and, for HMAC signing (the default), " +
                "its SigningSecret: neither is shown again. With SigningScheme Ed25519 the secret stays with the server and " +
                "SigningPublicKeys gives the public key that verifies its v1a signatures.");

        group.MapGet("/", Ok<ClientList> (IConnectorStore store, TimeProvider time, string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListClients(take, QueryId(cursor, "cursor"));
            // One query for the page's public keys, not one per client.
            var keys = store.ListPublicSigningKeys(page.Select(c => c.Id).ToList(), time.GetUtcNow()).ToLookup(k => k.ClientId);
            return TypedResults.Ok(new ClientList(
                page.Select(c => ClientResponse.From(c, keys[c.Id].ToList())).ToList(), page.Count == take ? page[^1].Id.ToString() : null));
        }).WithName("ListClients").WithSummary("List clients");

        group.MapGet("/{id}", Ok<ClientResponse> (string id, IConnectorStore store, TimeProvider time) =>
            TypedResults.Ok(Response(Find(store, id), store, time))).WithName("GetClient").WithSummary("Get a client");

        group.MapPatch("/{id}", async Task<Ok<ClientResponse>> (
            string id, HttpRequest request, ClientService clients, NetworkPolicy policy, IConnectorStore store, TimeProvider time) =>
        {
            var clientId = ParseId(id, "client");
            using var body = await request.ReadBodyAsync();
            var document = body.Document;
            var patch = ReadPatch(document.RootElement, policy);
            var update = await clients.UpdateAsync(clientId, patch);
            return TypedResults.Ok(Response(update.Client, store, time, signingSecret: update.Rotated?.SigningSecret));
        }).Accepts<UpdateClientRequest>("application/merge-patch+json", "application/json").WithName("UpdateClient").WithSummary("Change a client")
            .WithDescription("Sets the fields present in the body (Name, IntegrationWebhookUrl, GeneralWebhookUrl, ContractVersion, " +
                "SigningScheme); a URL set to null is removed. Setting IntegrationWebhookUrl, " +
                "even to its current value, re-enables it after the receiver answered 410. A new SigningScheme (Hmac or Ed25519) " +
                "rotates to a secret of that scheme; the old secrets keep signing through the rotation overlap, so the receiver " +
                "can move. The answer then carries the new HMAC SigningSecret, or the new public key among SigningPublicKeys.");

        group.MapPost("/{id}/regenerate-token", async Task<Ok<ClientResponse>> (
            string id, ClientService clients, IConnectorStore store, TimeProvider time) =>
        {
            var regenerated = await clients.RegenerateTokenAsync(ParseId(id, "client"));
            return TypedResults.Ok(Response(regenerated.Client, store, time, regenerated.ClientToken));
        }).WithName("RegenerateClientToken").WithSummary("Issue a new client token")
            .WithDescription("Issues a new ClientToken, shown only in this answer; the one before no longer opens a WebSocket, and " +
                "the client's WebSockets that it opened are closed.");

        group.MapDelete("/{id}", async Task<NoContent> (string id, ClientService clients) =>
        {
            await clients.DeleteAsync(ParseId(id, "client"));
            return TypedResults.NoContent();
        }).WithName("DeleteClient").WithSummary("Delete a client").ProducesProblem(409)
            .WithDescription("Deletes the client, its signing secrets and its integrations; emits nothing. 409 while one of its " +
                "integrations is not Deleted, or a message of them is still pending delivery. Its messages stay, listed by " +
                "integration and by id (and cannot be retried), until retention takes them.");

        group.MapRecover("client");

        group.MapPost("/{id}/retry-now", async Task<Accepted> (string id, ClientService clients) =>
        {
            await clients.RetryNowAsync(ParseId(id, "client"));
            return TypedResults.Accepted((string?)null);
        }).WithName("RetryClientNow").WithSummary("Retry a client's waiting messages now")
            .WithDescription("Every message of the client waiting for its next retry (its receiver failed and is healed now) is sent " +
                "now, by whichever process delivers its integration, in order; the attempt count and the retry schedule after " +
                "this attempt are unchanged. Failed messages are not touched: recover them with /recover.");

        group.MapGet("/{id}/health", Ok<ClientHealthResponse> (string id, IConnectorStore store) =>
        {
            var client = Find(store, id);
            return TypedResults.Ok(new ClientHealthResponse(client.Id, EndpointHealth.Of(client, store)));
        }).WithName("GetClientHealth").WithSummary("A client's endpoint health")
            .WithDescription($"Each endpoint of the client (Integration, General): its URL without query, its state (Healthy, Failing, " +
                $"Disabled), consecutive failures, the last success and failure, and the success rate and attempt time (p50, p99) " +
                $"over its last {EndpointHealth.Window} attempts.");

        group.MapPost("/{id}/rotate-secret", async Task<Ok<RotatedSecret>> (string id, ClientService clients) =>
            TypedResults.Ok(await clients.RotateSecretAsync(ParseId(id, "client")))).WithName("RotateClientSecret").WithSummary("Rotate a client's signing secret")
            .WithDescription("Issues a new signing secret of the client's scheme: an HMAC secret is in the answer, an Ed25519 one " +
                "stays with the server and its public key is. Until the previous ones expire, each webhook carries a signature by each.");
    }

    /// <summary>The client as the API shows it, with the public keys of its Ed25519 secrets that still sign.</summary>
    private static ClientResponse Response(
        ClientRecord client, IConnectorStore store, TimeProvider time, string? clientToken = null, string? signingSecret = null) =>
        ClientResponse.From(client, store.ListPublicSigningKeys([client.Id], time.GetUtcNow()), clientToken, signingSecret);

    private static SigningScheme ParseSigningScheme(string text) =>
        QueryEnum<SigningScheme>(text, "SigningScheme") ?? throw ApiProblemException.Invalid("SigningScheme", "must be Hmac or Ed25519, not empty.");

    private static ClientRecord Find(IConnectorStore store, string id) =>
        store.FindClient(ParseId(id, "client")) ?? throw ApiProblemException.NotFound("client", id);

    private static ClientPatch ReadPatch(JsonElement body, NetworkPolicy policy)
    {
        string? name = null;
        UrlChange? integrationUrl = null;
        UrlChange? generalUrl = null;
        ContractVersion? version = null;
        SigningScheme? scheme = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name.ToUpperInvariant())
            {
                case "NAME":
                    name = RequireName(StringOrNull(property, "Name"));
                    break;
                case "INTEGRATIONWEBHOOKURL":
                    integrationUrl = new UrlChange(CheckWebhookUrl(StringOrNull(property, "IntegrationWebhookUrl"), "IntegrationWebhookUrl", policy));
                    break;
                case "GENERALWEBHOOKURL":
                    generalUrl = new UrlChange(CheckWebhookUrl(StringOrNull(property, "GeneralWebhookUrl"), "GeneralWebhookUrl", policy));
                    break;
                case "SIGNINGSCHEME":
                    scheme = ParseSigningScheme(StringOrNull(property, "SigningScheme")
                        ?? throw ApiProblemException.Invalid("SigningScheme", "must be Hmac or Ed25519, not null."));
                    break;
                case "CONTRACTVERSION":
                    version = ParseContractVersion(StringOrNull(property, "ContractVersion")
                        ?? throw ApiProblemException.Invalid("ContractVersion", "must be a version such as 2025-08, not null."));
                    break;
                default:
                    throw ApiProblemException.Invalid(property.Name, "is not a known field.");
            }
        }
        return new ClientPatch(name, integrationUrl, generalUrl, version, scheme);
    }

    private static ContractVersion ParseContractVersion(string text) =>
        ContractVersion.TryParse(text, out var version)
            ? version
            : throw ApiProblemException.Invalid("ContractVersion", $"must be one of {ContractVersion.KnownTexts}.");

    private static string? StringOrNull(JsonProperty property, string field) => property.Value.ValueKind switch
    {
        JsonValueKind.String => property.Value.GetString(),
        JsonValueKind.Null => null,
        _ => throw ApiProblemException.Invalid(field, "must be a string or null."),
    };
}
