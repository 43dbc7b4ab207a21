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

        group.MapPost("/", async Task<Created<ClientResponse>> (HttpRequest request, ClientService clients, NetworkPolicy policy) =>
        {
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateClientRequest);
            var name = RequireName(body.Name);
            var created = await clients.CreateAsync(name,
                CheckWebhookUrl(body.IntegrationWebhookUrl, "IntegrationWebhookUrl", policy),
                CheckWebhookUrl(body.GeneralWebhookUrl, "GeneralWebhookUrl", policy),
                body.ContractVersion is null ? null : ParseContractVersion(body.ContractVersion));
            return TypedResults.Created($"/api/v1/clients/{created.Client.Id}",
                ClientResponse.From(created.Client, created.ClientToken, created.SigningSecret));
        }).Accepts<CreateClientRequest>("application/json").WithName("CreateClient");

        group.MapGet("/", Ok<ClientList> (IConnectorStore store, string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListClients(take, QueryId(cursor, "cursor"));
            return TypedResults.Ok(new ClientList(
                page.Select(c => ClientResponse.From(c)).ToList(), page.Count == take ? page[^1].Id.ToString() : null));
        }).WithName("ListClients");

        group.MapGet("/{id}", Ok<ClientResponse> (string id, IConnectorStore store) =>
            TypedResults.Ok(ClientResponse.From(Find(store, id)))).WithName("GetClient");

        group.MapPatch("/{id}", async Task<Ok<ClientResponse>> (string id, HttpRequest request, ClientService clients, NetworkPolicy policy) =>
        {
            var clientId = ParseId(id, "client");
            using var document = await request.ReadDocumentAsync();
            var patch = ReadPatch(document.RootElement, policy);
            return TypedResults.Ok(ClientResponse.From(await clients.UpdateAsync(clientId, patch)));
        }).Accepts<CreateClientRequest>("application/merge-patch+json", "application/json").WithName("UpdateClient")
            .WithDescription("Sets the fields present in the body (Name, IntegrationWebhookUrl, GeneralWebhookUrl, ContractVersion); " +
                "a URL set to null is removed. Setting IntegrationWebhookUrl, " +
                "even to its current value, re-enables it after the receiver answered 410.");

        group.MapPost("/{id}/regenerate-token", async Task<Ok<ClientResponse>> (string id, ClientService clients) =>
        {
            var regenerated = await clients.RegenerateTokenAsync(ParseId(id, "client"));
            return TypedResults.Ok(ClientResponse.From(regenerated.Client, regenerated.ClientToken));
        }).WithName("RegenerateClientToken")
            .WithDescription("Issues a new ClientToken, shown only in this answer; the one before no longer opens a WebSocket, and " +
                "the client's WebSockets that it opened are closed.");

        group.MapPost("/{id}/rotate-secret", async Task<Ok<RotatedSecret>> (string id, ClientService clients) =>
            TypedResults.Ok(await clients.RotateSecretAsync(ParseId(id, "client")))).WithName("RotateClientSecret")
            .WithDescription("Issues a new signing secret. Until the previous ones expire, each webhook carries a signature by each.");
    }

    private static ClientRecord Find(IConnectorStore store, string id) =>
        store.FindClient(ParseId(id, "client")) ?? throw ApiProblemException.NotFound("client", id);

    private static ClientPatch ReadPatch(JsonElement body, NetworkPolicy policy)
    {
        string? name = null;
        UrlChange? integrationUrl = null;
        UrlChange? generalUrl = null;
        ContractVersion? version = null;
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
                case "CONTRACTVERSION":
                    version = ParseContractVersion(StringOrNull(property, "ContractVersion")
                        ?? throw ApiProblemException.Invalid("ContractVersion", "must be a version such as 2025-08, not null."));
                    break;
                default:
                    throw ApiProblemException.Invalid(property.Name, "is not a known field.");
            }
        }
        return new ClientPatch(name, integrationUrl, generalUrl, version);
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
