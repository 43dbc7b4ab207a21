using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// <c>/openapi/v1.json</c> (OpenAPI 3.1) and the interactive reference over it at <c>/docs</c> (Scalar, whose script is
/// embedded in its package and served from <c>/docs/scalar.js</c>: no CDN). Both are outside <c>/api</c>, so they need no
/// key. A route describes itself with <c>.WithName</c>, <c>.WithSummary</c>, <c>.WithTags</c>, <c>.Accepts</c> and a
/// <c>.ProducesProblem</c> for each refusal of its own; <see cref="CommonResponses"/> adds what the middleware answers.
/// </summary>
public static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string DocsPath = "/docs";

    public static IServiceCollection AddConnectorOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddOperationTransformer<CommonResponses>();
            options.AddDocumentTransformer<ServerDocument>();
            options.AddDocumentTransformer<RequestSchemas>();
            options.AddDocumentTransformer<WebhookDocument>();
        });

    public static void MapConnectorApiReference(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi(DocumentPath);
        app.MapScalarApiReference(DocsPath, options => options
            .WithTitle("ConnectorEvents API")
            .WithOpenApiRoutePattern(DocumentPath))
            .ExcludeFromDescription();
    }
}
