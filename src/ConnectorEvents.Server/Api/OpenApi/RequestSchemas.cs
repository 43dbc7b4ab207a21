using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Ingest;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using static ConnectorEvents.Server.Api.OpenApi.Schemas;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// The request bodies as the server reads them, replacing the schemas generated from the request records (whose
/// properties are all nullable so that a missing one is reported by name, which made the generated schemas call every
/// field required and every field nullable). A field is required here when its absence is a 400; nullable when null is
/// taken; every body refuses unknown fields (and a field given twice, which JSON Schema cannot say). Names and enum values
/// are given in their canonical spelling; the server also reads other casings of them.
/// </summary>
internal sealed class RequestSchemas : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var versions = ContractVersion.All.Select(v => v.Text).ToArray();
        string[] schemes = [nameof(Core.Delivery.SigningScheme.Hmac), nameof(Core.Delivery.SigningScheme.Ed25519)];

        Set(document, "CreateEnterpriseRequest", Closed(null, ["Name"],
            ("Name", Name()), ("Id", OrNull(Id("The id to give it; made up when absent.")))));
        Set(document, "CreateServiceRequest", Closed(null, ["Name"],
            ("Name", Name()), ("Id", OrNull(Id("The id to give it; made up when absent.")))));
        Set(document, "CreateClientRequest", Closed(null, ["Name"],
            ("Name", Name()),
            ("IntegrationWebhookUrl", OrNull(Url("Where Integration Webhooks go: an absolute http(s) URL, stored exactly as sent."))),
            ("GeneralWebhookUrl", OrNull(Url("Where General Webhooks go."))),
            ("ContractVersion", OrNull(OneOf(versions, $"The contract version its webhooks are written in; {ContractVersion.Default.Text} when absent."))),
            ("SigningScheme", OrNull(OneOf(schemes, "Hmac (the default) or Ed25519.")))));
        Set(document, "UpdateClientRequest", Closed("Only the fields present change; a URL set to null is removed.", [],
            ("Name", Name()),
            ("IntegrationWebhookUrl", OrNull(Url("Setting it, even to its current value, re-enables it after a 410."))),
            ("GeneralWebhookUrl", OrNull(Url("Where General Webhooks go."))),
            ("ContractVersion", OneOf(versions)),
            ("SigningScheme", OneOf(schemes, "A new scheme rotates to a secret of that scheme."))));
        Set(document, "RequestorInput", Closed(null, ["Name", "Email"],
            ("Name", Name()), ("Email", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = @"^\S+@\S+$", MaxLength = 320 })));
        Set(document, "CreateIntegrationRequest", Closed(null, ["EnterpriseId", "ClientId"],
            ("EnterpriseId", Id()), ("ClientId", Id()), ("ServiceId", OrNull(Id())),
            ("Name", OrNull(Name())), ("IsEnabled", OrNull(Boolean("Enabled unless false."))),
            ("Requestor", OrNull(Ref("RequestorInput", document)))));
        Set(document, "SubscriptionRequest", Closed("A list sets exactly those (an empty one: none), null restores all, an absent field is left as it is.", [],
            ("GeneralEvents", OrNull(ListOf(OneOf(GeneralDiscriminators.All)))),
            ("WebSocketEvents", OrNull(ListOf(OneOf(WebSocketEventTypes.All))))));
        Set(document, "RecoverRequest", Closed(null, ["Since"],
            ("Since", Instant("The creation time the window starts at.")),
            ("Until", OrNull(Instant("The end of the window (not included); now when absent."))),
            ("Channel", OrNull(OneOf(Enum.GetNames<Core.Storage.WebhookChannel>(), "One channel; both when absent.")))));
        Set(document, "CreateApiKeyRequest", Closed(null, ["Name", "Role"],
            ("Name", Name()),
            ("Role", OneOf(Enum.GetNames<Core.Storage.ApiKeyRole>())),
            ("EnterpriseIds", OrNull(ListOf(Id(), "For a Producer key: the enterprises it may post events for; all when absent.")))));

        Set(document, "GeneralIngestEvent", Closed("A General event, as in the General message.", ["Discriminator", "Value"],
            ("Discriminator", OneOf(GeneralDiscriminators.All)),
            ("Value", Closed(null, ["Id"], ("Id", Id("The entity's id.")))),
            ("Entity", OrNull(new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "For 2021-01 clients only: the entity's latest state (a Reservation for ServiceOrderUpdated, a Resource for ResourceUpdated), with the same Id.",
            }))));
        WebSocketEventSchemas.Add(document);
        Set(document, "IngestRequest", Closed(null, ["Events"],
            ("Events", new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                MaxItems = IngestService.MaxEventsPerRequest,
                Items = new OpenApiSchema
                {
                    OneOf = [Ref("GeneralIngestEvent", document), .. WebSocketEventTypes.All.Select(t => Ref(t + "Event", document))],
                },
            })));
        return Task.CompletedTask;
    }
}

/// <summary>The WebSocket events (events-websockets.md): what producers post to ingest and what a WebSocket frame carries.</summary>
internal static class WebSocketEventSchemas
{
    public static void Add(OpenApiDocument document)
    {
        const string state = "A state name (at most 255 characters).";
        Set(document, "DeviceCommandEvent", Closed("A command for a device the integration handles was created or updated.", ["Type", "Id", "State"],
            ("Type", Const(WebSocketEventTypes.DeviceCommand)), ("Id", Id()), ("State", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = state })));
        Set(document, "ReservationEvent", Closed("A reservation changed.", ["Type", "Id", "State", "StartUtc", "EndUtc"],
            ("Type", Const(WebSocketEventTypes.Reservation)), ("Id", Id()), ("State", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = state }),
            ("StartUtc", Instant()), ("EndUtc", Instant()), ("AssignedResourceId", OrNull(Id("Left out when none is assigned.")))));
        Set(document, "ResourceEvent", Closed("A resource was created, renamed or changed state.", ["Type", "Id", "State"],
            ("Type", Const(WebSocketEventTypes.Resource)), ("Id", Id()), ("State", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = state })));
        Set(document, "PriceUpdateEvent", Closed("A rate price was created or updated.", ["Type", "Id"],
            ("Type", Const(WebSocketEventTypes.PriceUpdate)), ("Id", Id()),
            ("StartUtc", OrNull(Instant())), ("EndUtc", OrNull(Instant())), ("RateId", OrNull(Id())), ("ResourceCategoryId", OrNull(Id()))));
    }
}
