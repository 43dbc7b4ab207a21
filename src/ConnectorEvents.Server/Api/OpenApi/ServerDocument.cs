using ConnectorEvents.Server.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// The parts of the document no endpoint describes: the title and overview, the security schemes, and the health and
/// metrics routes (mapped as plain request delegates, which the generator does not see).
/// </summary>
internal sealed class ServerDocument : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(context);
        document.Info.Title = "ConnectorEvents";
        document.Info.Description =
            "A self-hostable delivery server for the Connector API's API Events: Integration Webhooks, General Webhooks and " +
            "WebSockets. The management API under /api takes 'Authorization: Bearer <key>' (the configured admin key or a key " +
            "made with POST /api/v1/api-keys; its role says what it opens). Bodies are UTF-8 JSON with PascalCase names; unknown " +
            "fields and a field given twice are refused. Every error is RFC 9457 problem details (application/problem+json) " +
            "naming the field. What the server sends to receivers is under webhooks; the WebSocket frames under GET /ws/connector.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[CommonResponses.ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key: Security:AdminApiKey, one of Security:ProducerApiKeys, or a key made with POST /api/v1/api-keys.",
        };
        document.Components.SecuritySchemes[CommonResponses.ClientTokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = "ClientToken",
            Description = "The client's ClientToken, as a cookie beside AccessToken (no spaces around '=').",
        };
        document.Components.SecuritySchemes[CommonResponses.AccessTokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = "AccessToken",
            Description = "The integration's AccessToken, as a cookie beside ClientToken.",
        };
        document.Components.Schemas?.Remove("IngestEventShape");
        AddServiceRoutes(document, context.ApplicationServices.GetRequiredService<IOptions<MetricsOptions>>().Value);
        return Task.CompletedTask;
    }

    private static void AddServiceRoutes(OpenApiDocument document, MetricsOptions metrics)
    {
        var readiness = new OpenApiMediaType
        {
            Schema = Schemas.Open("Status, and what an operator looks at first.", ["Status"],
                ("Status", Schemas.OneOf(["Healthy", "Degraded", "Unhealthy"])),
                ("Reason", Schemas.Text("Why it is not healthy.")),
                ("Storage", new OpenApiSchema { Type = JsonSchemaType.Object }),
                ("Writer", new OpenApiSchema { Type = JsonSchemaType.Object }),
                ("Dispatcher", new OpenApiSchema { Type = JsonSchemaType.Object }),
                ("Leases", new OpenApiSchema { Type = JsonSchemaType.Object }),
                ("Disk", new OpenApiSchema { Type = JsonSchemaType.Object })),
        };
        document.Paths["/healthz/live"] = Get("GetLiveness", "Liveness", "200 while the process runs; no key, no rate limit. Also on Health:Port when set.",
            new() { ["200"] = Text("The process runs.", "text/plain") });
        document.Paths["/healthz/ready"] = Get("GetReadiness", "Readiness",
            "200 while storage answers, the last write succeeded and the writer and dispatcher run; 503 otherwise. No key, no rate limit. " +
            "Also on Health:Port when set.",
            new()
            {
                ["200"] = new OpenApiResponse { Description = "Ready.", Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = readiness } },
                ["503"] = new OpenApiResponse { Description = "Not ready; Reason says why.", Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = readiness } },
            });
        if (!metrics.Prometheus)
        {
            return;
        }
        var scrape = Get("GetMetrics", "Prometheus metrics",
            metrics.AllowAnonymous ? "The server's metrics in the Prometheus text format; open (Metrics:AllowAnonymous)."
                : "The server's metrics in the Prometheus text format; a Reader or Admin key (Metrics:AllowAnonymous opens it).",
            new()
            {
                ["200"] = Text("The metrics.", "text/plain"),
                ["429"] = Problem(document, "A rate limit is reached.", retryAfter: true),
            });
        if (!metrics.AllowAnonymous)
        {
            var operation = scrape.Operations![HttpMethod.Get];
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(CommonResponses.ApiKeyScheme, document)] = [] }];
            operation.Responses!["401"] = Problem(document, "No API key, or not a valid one.");
            operation.Responses["403"] = Problem(document, "A Producer key does not open the metrics.");
        }
        document.Paths[MetricsOptions.ScrapePath] = scrape;
    }

    private static OpenApiPathItem Get(string id, string summary, string description, OpenApiResponses responses) => new()
    {
        Operations = new Dictionary<HttpMethod, OpenApiOperation>
        {
            [HttpMethod.Get] = new()
            {
                OperationId = id,
                Summary = summary,
                Description = description,
                Tags = new HashSet<OpenApiTagReference> { new("Operations") },
                Responses = responses,
            },
        },
    };

    private static OpenApiResponse Text(string description, string mediaType) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = Schemas.Text() } },
    };

    private static OpenApiResponse Problem(OpenApiDocument document, string description, bool retryAfter = false) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            [ProblemJsonWriter.ContentType] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) },
        },
        Headers = retryAfter
            ? new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = new OpenApiHeader { Schema = Schemas.Text("Seconds to wait.") } }
            : null,
    };
}
