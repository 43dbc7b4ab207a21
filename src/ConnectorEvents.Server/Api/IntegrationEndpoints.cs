using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Storage;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

public static class IntegrationEndpoints
{
    private const int MaxEmailLength = 320;

    public static void MapIntegrations(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/integrations").WithTags("Integrations");
        group.MapRecover("integration");

        group.MapPost("/", async Task<Created<IntegrationResponse>> (HttpRequest request, IntegrationService integrations) =>
        {
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateIntegrationRequest);
            var command = new CreateIntegration(
                body.EnterpriseId ?? throw ApiProblemException.Invalid("EnterpriseId", "is required."),
                body.ClientId ?? throw ApiProblemException.Invalid("ClientId", "is required."),
                body.ServiceId,
                body.Name is null ? null : RequireName(body.Name),
                body.IsEnabled ?? true,
                RequestorOf(body.Requestor));
            var created = await integrations.CreateAsync(command);
            return TypedResults.Created($"/api/v1/integrations/{created.Integration.Id}", IntegrationResponse.From(created));
        }).Accepts<CreateIntegrationRequest>("application/json").WithName("CreateIntegration").WithSummary("Create an integration")
            .WithDescription("Creates an integration, Enabled unless IsEnabled is false, and emits IntegrationCreated. The answer " +
                "carries the AccessToken, which no later answer repeats (listings show its AccessTokenPrefix).");

        group.MapGet("/", Ok<IntegrationList> (IConnectorStore store, string? enterpriseId, string? clientId, string? state,
            string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListIntegrations(new IntegrationQuery(QueryId(enterpriseId, "enterpriseId"), QueryId(clientId, "clientId"),
                QueryEnum<IntegrationState>(state, "state"), take, QueryId(cursor, "cursor")));
            return TypedResults.Ok(new IntegrationList(
                page.Select(IntegrationResponse.From).ToList(), page.Count == take ? page[^1].Id.ToString() : null));
        }).WithName("ListIntegrations").WithSummary("List integrations");

        group.MapGet("/{id}", Ok<IntegrationResponse> (string id, IConnectorStore store) =>
            TypedResults.Ok(IntegrationResponse.From(
                store.FindIntegration(ParseId(id, "integration")) ?? throw ApiProblemException.NotFound("integration", id))))
            .WithName("GetIntegration").WithSummary("Get an integration");

        group.MapPatch("/{id}", async Task<Ok<IntegrationResponse>> (string id, HttpRequest request, IntegrationService integrations) =>
        {
            var integrationId = ParseId(id, "integration");
            using var body = await request.ReadBodyAsync();
            var document = body.Document;
            EventSubscription? general = null;
            EventSubscription? webSocket = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name.ToUpperInvariant())
                {
                    case "GENERALEVENTS":
                        general = ReadSubscription(property.Value, "GeneralEvents", GeneralDiscriminators.All);
                        break;
                    case "WEBSOCKETEVENTS":
                        webSocket = ReadSubscription(property.Value, "WebSocketEvents", WebSocketEventTypes.All);
                        break;
                    default:
                        throw ApiProblemException.Invalid(property.Name, "is not a known field (GeneralEvents, WebSocketEvents).");
                }
            }
            return TypedResults.Ok(IntegrationResponse.From(await integrations.SubscribeAsync(integrationId, general, webSocket)));
        }).Accepts<SubscriptionRequest>("application/merge-patch+json", "application/json").WithName("UpdateIntegrationSubscriptions").WithSummary("Choose the events an integration receives")
            .ProducesProblem(409)
            .WithDescription("Sets which General discriminators and WebSocket event types the integration receives: a list sets " +
                "exactly those (an empty one: none), null restores all (the default), an absent field is left as it is.");

        MapCommand(group, "/{id}/enable", IntegrationCommand.Enable, "EnableIntegration", "Enable an integration",
            "Disabled → Enabled; emits IntegrationEnabled.");
        MapCommand(group, "/{id}/disable", IntegrationCommand.Disable, "DisableIntegration", "Disable an integration",
            "Enabled → Disabled; emits IntegrationDisabled.");
        MapCommand(group, "/{id}/cancel", IntegrationCommand.Cancel, "CancelIntegration", "Cancel an integration",
            "Enabled or Disabled → Canceled; emits IntegrationCanceled.");
        MapCommand(group, "/{id}/reinstate", IntegrationCommand.Reinstate, "ReinstateIntegration", "Reinstate a canceled integration",
            "Canceled → the state before the cancel; emits IntegrationReinstated.");
        MapCommand(group, "/{id}/regenerate-access-token", IntegrationCommand.RegenerateAccessToken, "RegenerateAccessToken",
            "Issue a new access token", "Issues a new access token, shown only in this answer and in the IntegrationApiKeyCreated webhook it emits.");

        group.MapDelete("/{id}", (string id, IntegrationService integrations) => Apply(id, IntegrationCommand.Delete, integrations))
            .WithName("DeleteIntegration").WithSummary("Delete an integration").WithDescription("Any state but Deleted → Deleted; emits IntegrationDeleted.")
            .ProducesProblem(409);
    }

    private static void MapCommand(
        RouteGroupBuilder group, string pattern, IntegrationCommand command, string name, string summary, string description) =>
        group.MapPost(pattern, (string id, IntegrationService integrations) => Apply(id, command, integrations))
            .WithName(name).WithSummary(summary).WithDescription(description).ProducesProblem(409);

    private static async Task<Ok<IntegrationResponse>> Apply(string id, IntegrationCommand command, IntegrationService integrations) =>
        TypedResults.Ok(IntegrationResponse.From(await integrations.ApplyAsync(ParseId(id, "integration"), command)));

    private static EventSubscription ReadSubscription(JsonElement value, string field, IReadOnlyList<string> known)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return EventSubscription.All;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw ApiProblemException.Invalid(field, "must be an array of names, or null for all.");
        }
        var names = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            var name = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            if (name is null || !known.Contains(name, StringComparer.Ordinal))
            {
                throw ApiProblemException.Invalid(field, $"may hold only {string.Join(", ", known)} (spelled exactly).");
            }
            names.Add(name);
        }
        return EventSubscription.Only(names);
    }

    private static Requestor? RequestorOf(RequestorInput? input)
    {
        if (input is null)
        {
            return null;
        }
        var name = RequireName(input.Name, "Requestor.Name");
        if (string.IsNullOrWhiteSpace(input.Email))
        {
            throw ApiProblemException.Invalid("Requestor.Email", "is required when a Requestor is given.");
        }
        var email = input.Email.Trim();
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (email.Length > MaxEmailLength || at < 1 || at == email.Length - 1 || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw ApiProblemException.Invalid("Requestor.Email", "must be an e-mail address.");
        }
        return new Requestor(name, email);
    }
}
