using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using static ConnectorEvents.Server.Api.OpenApi.Schemas;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// The top-level <c>webhooks</c>: what the server POSTs to receivers in the current contract version
/// (<see cref="ContractVersion.Latest"/>), one entry per Integration Webhook action and one for the General message, each
/// with the Standard Webhooks headers, the answers a receiver may give, and the contract's own samples
/// (<see cref="Samples"/>) as examples; and the WebSocket frame, as the <c>101</c> answer of <c>GET /ws/connector</c>.
/// The schemas follow reference/connector-api (events-wh-integration.md, events-wh-general.md, events-websockets.md);
/// the tests check the server's real bodies against them.
/// </summary>
internal sealed class WebhookDocument : IOpenApiDocumentTransformer
{
    private const string IntegrationTag = "Integration Webhooks";
    private const string GeneralTag = "General Webhooks";

    private static readonly Dictionary<string, (string Data, string When)> Actions = new(StringComparer.Ordinal)
    {
        [IntegrationActions.Created] = ("IntegrationCreatedData", "An integration was created (POST /api/v1/integrations)."),
        [IntegrationActions.Enabled] = ("IntegrationStateData", "An integration was enabled."),
        [IntegrationActions.Disabled] = ("IntegrationStateData", "An integration was disabled."),
        [IntegrationActions.Canceled] = ("IntegrationStateData", "An integration was canceled."),
        [IntegrationActions.Reinstated] = ("IntegrationStateData", "A canceled integration was reinstated."),
        [IntegrationActions.Deleted] = ("IntegrationDeletedData", "An integration was deleted."),
        [IntegrationActions.ApiKeyCreated] = ("IntegrationApiKeyCreatedData", "An integration's access token was regenerated; ApiKey is the new one."),
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var version = ContractVersion.Latest;
        var samples = Samples.All(version);
        AddContractSchemas(document, version);
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = IntegrationTag, Description = "One webhook per change of an integration's state, to the client's IntegrationWebhookUrl." });
        document.Tags.Add(new OpenApiTag { Name = GeneralTag, Description = "The events of one integration that happened together, to the client's GeneralWebhookUrl." });
        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>(StringComparer.Ordinal);
        foreach (var action in version.KnownIntegrationActions)
        {
            var (data, when) = Actions[action];
            var name = action + "Webhook";
            Set(document, name, Closed(null, ["Action", "Data"], ("Action", Const(action)), ("Data", Ref(data, document))));
            var sample = samples.Single(s => s.Kind == PayloadKind.IntegrationWebhook && s.Name == action);
            document.Webhooks[action] = Webhook(document, action, IntegrationTag, when, Ref(name, document),
                new() { [action] = Example($"{action} ({version.Text})", sample.Body) });
        }
        var general = samples.Where(s => s.Kind == PayloadKind.GeneralMessage)
            .ToDictionary(s => s.Name, s => (IOpenApiExample)Example($"{s.Name} ({version.Text})", s.Body), StringComparer.Ordinal);
        document.Webhooks["GeneralWebhook"] = Webhook(document, "GeneralWebhook", GeneralTag,
            "Events of one integration that happened together (batched for up to a few seconds); each names its entity, which the " +
            "receiver fetches through the Connector API. A new customer arrives as CustomerAdded and CustomerUpdated with the same Id.",
            Ref("GeneralWebhookMessage", document), general);
        DescribeWebSocketFrames(document, samples);
        return Task.CompletedTask;
    }

    private static void AddContractSchemas(OpenApiDocument document, ContractVersion version)
    {
        (string, IOpenApiSchema) IdName(string what) => ("Id", Id($"Unique identifier of the {what}."));
        Set(document, "WebhookEnterprise", Open("Property or chain of properties.", ["Id", "Name"], IdName("enterprise"), ("Name", Text())));
        Set(document, "WebhookService", Open("Service the integration is connected to.", ["Id", "Name"], IdName("service"), ("Name", Text())));
        Set(document, "WebhookIntegration", Open("The integration.", ["Id", "Name"], IdName("integration"), ("Name", Text())));
        Set(document, "WebhookRequestor", Open("Person requesting the action, if known.", ["Name", "Email"], ("Name", Text()), ("Email", Text())));
        Set(document, "IntegrationCreatedData", Open(null, ["Enterprise", "AccessToken", "CreatedUtc", "IsEnabled", "Integration"],
            ("Enterprise", Ref("WebhookEnterprise", document)),
            ("Service", OrNull(Ref("WebhookService", document))),
            ("Requestor", OrNull(Ref("WebhookRequestor", document))),
            ("AccessToken", Text("Access token of the integration.")),
            ("CreatedUtc", Instant("Creation time of the integration (UTC, whole seconds).")),
            ("IsEnabled", Boolean("Whether the integration is enabled.")),
            ("Integration", Ref("WebhookIntegration", document))));
        Set(document, "IntegrationStateData", Open("Data of IntegrationEnabled, IntegrationDisabled, IntegrationCanceled and IntegrationReinstated.",
            ["Integration"], ("Integration", Ref("WebhookIntegration", document))));
        Set(document, "IntegrationDeletedData", Open(null, ["DeletedUtc", "Integration"],
            ("DeletedUtc", Instant("Deletion time of the integration.")), ("Integration", Ref("WebhookIntegration", document))));
        Set(document, "IntegrationApiKeyCreatedData", Open(null, ["Integration", "ApiKey"],
            ("Integration", Ref("WebhookIntegration", document)), ("ApiKey", Text("The new access token."))));
        Set(document, "GeneralEvent", Open(null, ["Discriminator", "Value"],
            ("Discriminator", OneOf(version.KnownGeneralDiscriminators, "The type of event.")),
            ("Value", Open("Entity updated data.", ["Id"], ("Id", Id("The added or updated entity; fetch it with the Connector API."))))));
        Set(document, "GeneralWebhookMessage", Open(null, ["EnterpriseId", "IntegrationId", "Events"],
            ("EnterpriseId", Id("The enterprise the events belong to.")),
            ("IntegrationId", Id("The integration the events belong to.")),
            ("Events", new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1, Items = Ref("GeneralEvent", document) })));
        Set(document, "WebSocketFrame", Closed("One WebSocket text message.", ["Events"],
            ("Events", new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                Items = new OpenApiSchema { OneOf = WebSocketEventTypes.All.Select(t => (IOpenApiSchema)Ref(t + "Event", document)).ToList() },
            })));
    }

    private static OpenApiPathItem Webhook(OpenApiDocument document, string id, string tag, string description, IOpenApiSchema body,
        Dictionary<string, IOpenApiExample> examples) => new()
    {
        Operations = new Dictionary<HttpMethod, OpenApiOperation>
        {
            [HttpMethod.Post] = new()
            {
                OperationId = id,
                Summary = id,
                Description = description + " Sent as POST with 'Content-Type: application/json; charset=utf-8'; signed per Standard Webhooks.",
                Tags = new HashSet<OpenApiTagReference> { new(tag, document) },
                Parameters =
                [
                    Header("webhook-id", "The message id: the same on every retry of this message, so a receiver can drop repeats."),
                    Header("webhook-timestamp", "Unix seconds when this attempt was signed; reject one too far from now."),
                    Header("webhook-signature", "Space-separated 'v1,<base64 HMAC-SHA256>' (or 'v1a,<base64 Ed25519>') of '{webhook-id}.{webhook-timestamp}.{body}', one per signing secret (two during a rotation)."),
                ],
                RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = body, Examples = examples } },
                },
                Responses = new OpenApiResponses
                {
                    ["2XX"] = new OpenApiResponse { Description = "Delivered: any 2xx ends the message." },
                    ["410"] = new OpenApiResponse { Description = "Gone: the message fails and the client's URL is disabled until it is set again." },
                    ["default"] = new OpenApiResponse
                    {
                        Description = "Anything else (or a time-out after 5 s, or a connection error) is retried after 5 s, 5 min, 30 min, 2 h, 5 h, " +
                            "10 h, 10 h (±20 %), honouring a Retry-After up to 1 h; then the message is Failed. 307/308 re-POST to Location (5 hops at most).",
                    },
                },
            },
        },
    };

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = Text(),
    };

    private static OpenApiExample Example(string summary, byte[] body) => new() { Summary = summary, Value = JsonNode.Parse(body) };

    /// <summary>After the upgrade, each text message is a <c>WebSocketFrame</c>: shown as the 101 answer of the route.</summary>
    private static void DescribeWebSocketFrames(OpenApiDocument document, IReadOnlyList<SamplePayload> samples)
    {
        if (document.Paths.TryGetValue(WebSocketEndpoint.Path, out var item) && item.Operations?.GetValueOrDefault(HttpMethod.Get) is { } connect)
        {
            connect.Responses ??= [];
            connect.Responses["101"] = new OpenApiResponse
            {
                Description = "Switching Protocols: the WebSocket is open. Each text message the server then sends is a WebSocketFrame " +
                    "(the integration's events, in order); the client sends nothing. Events are not pinned to a contract version.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new()
                    {
                        Schema = Ref("WebSocketFrame", document),
                        Examples = samples.Where(s => s.Kind == PayloadKind.WebSocketFrame)
                            .ToDictionary(s => s.Name, s => (IOpenApiExample)Example(s.Name, s.Body), StringComparer.Ordinal),
                    },
                },
            };
        }
    }
}
