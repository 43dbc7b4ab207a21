using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// What every route answers because of the middleware and filters in front of it, not because of its handler, added to
/// each operation by the rule the server applies (so a new route gets it without a line of its own):
/// <list type="bullet">
/// <item><c>/api</c>: the bearer key (<see cref="ApiKeyAuthentication"/>): 401, 403; 503 while storage is not open
/// (<see cref="Hosting.StartupGate"/>) or unavailable;</item>
/// <item><c>/ws/connector</c>: the two cookies; 503 likewise;</item>
/// <item>every route: 429 from the rate limits; a path parameter: 404 when it names nothing; a body: 400, 413, 415;
/// query parameters: 400;</item>
/// <item>a management POST (<see cref="IdempotentPosts"/>) and ingest: <c>Idempotency-Key</c>, 400 for a malformed key,
/// 422 for a key reused with another body, <c>Idempotent-Replayed</c> on a replayed answer; management POSTs also 409 for
/// a key whose change applied but whose answer was not recorded.</item>
/// </list>
/// A route-specific refusal (409 for a state conflict, 404 for a missing owner, 422, 503 for a busy ingest) is the
/// endpoint's own <c>.ProducesProblem(status)</c>; every problem answer here says <c>application/problem+json</c>.
/// </summary>
internal sealed class CommonResponses : IOpenApiOperationTransformer
{
    public const string ApiKeyScheme = "ApiKey";
    public const string ClientTokenScheme = "ClientToken";
    public const string AccessTokenScheme = "AccessToken";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        var description = context.Description;
        var path = "/" + (description.RelativePath ?? "").TrimStart('/');
        var document = context.Document!;
        var underApi = path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase);
        var isPost = string.Equals(description.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase);
        var isIngest = description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>()
            .Any(n => n.EndpointName == IngestEndpoints.EndpointName);
        operation.Responses ??= [];

        if (underApi)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] }];
            Problem(operation, document, 401, "No API key, or not a valid one: send 'Authorization: Bearer <key>'.",
                ("WWW-Authenticate", "Bearer."));
            Problem(operation, document, 403, "The key's role does not open this route (a Reader key only reads; a Producer key only posts events, for its enterprises).");
        }
        if (path.StartsWith(WebSocketEndpoint.Path, StringComparison.OrdinalIgnoreCase))
        {
            operation.Security = [new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ClientTokenScheme, document)] = [],
                [new OpenApiSecuritySchemeReference(AccessTokenScheme, document)] = [],
            }];
        }
        if (underApi || path.StartsWith(WebSocketEndpoint.Path, StringComparison.OrdinalIgnoreCase))
        {
            Problem(operation, document, 503, "Storage is not open yet, or unavailable; nothing was changed unless the detail says it may have been.",
                ("Retry-After", "Seconds to wait before sending again."));
        }
        Problem(operation, document, 429, "A rate limit (per key, per address, or of failed authentications) is reached.",
            ("Retry-After", "Seconds to wait before sending again."));
        if (path.Contains('{', StringComparison.Ordinal))
        {
            Problem(operation, document, 404, "No entity has the id in the path.");
        }
        var hasBody = operation.RequestBody is not null;
        var hasQuery = description.ParameterDescriptions.Any(p => p.Source == BindingSource.Query);
        if (hasBody)
        {
            Problem(operation, document, 413, "The body is larger than this route takes.");
            Problem(operation, document, 415, "The body is not UTF-8 JSON ('Content-Type: application/json').");
        }
        if (hasBody || hasQuery)
        {
            Problem(operation, document, 400, "A field or query value is missing, of the wrong type or refused; the problem's errors name it.");
        }
        if (underApi && isPost)
        {
            AddIdempotency(operation, document, isIngest);
        }
        foreach (var (status, response) in operation.Responses)
        {
            if (status.StartsWith('4') || status.StartsWith('5'))
            {
                Retarget(response, document);
            }
        }
        return Task.CompletedTask;
    }

    private static void AddIdempotency(OpenApiOperation operation, OpenApiDocument document, bool isIngest)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotentPosts.Header,
            In = ParameterLocation.Header,
            Description = $"Makes a retry safe: the same request sent again with the same key applies nothing and gets the first answer " +
                $"with '{IdempotentPosts.ReplayedHeader}: true'. 1 to {IdempotentPosts.MaxKeyLength} printable ASCII characters, no spaces; " +
                "kept per API key for Ingest:IdempotencyKeyRetention (24 h).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotentPosts.MaxKeyLength, Pattern = "^[!-~]+$" },
        });
        Problem(operation, document, 400, "A field is refused, or the Idempotency-Key is malformed; the problem's errors name it.");
        Problem(operation, document, 422, "The Idempotency-Key was used before with another route or body.");
        if (!isIngest)
        {
            Problem(operation, document, 409, "The command conflicts with the current state, or the Idempotency-Key's change applied but its answer was never recorded.");
        }
        foreach (var (status, response) in operation.Responses!)
        {
            if (status.StartsWith('2') && response is OpenApiResponse success)
            {
                success.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
                success.Headers[IdempotentPosts.ReplayedHeader] = new OpenApiHeader
                {
                    Description = "'true' when this is the recorded answer to an earlier request with the same Idempotency-Key.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [System.Text.Json.Nodes.JsonValue.Create("true")] },
                };
            }
        }
    }

    /// <summary>Adds a problem answer, or gives an existing one (from <c>.ProducesProblem</c>) this description and headers.</summary>
    private static void Problem(OpenApiOperation operation, OpenApiDocument document, int status, string description,
        params (string Name, string Description)[] headers)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.TryGetValue(key, out var existing) && existing is OpenApiResponse known)
        {
            // An endpoint's own description (e.g. ingest's busy 503) is kept when it has one beyond the reason phrase.
            if (string.IsNullOrEmpty(known.Description) || known.Description == Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status))
            {
                known.Description = description;
            }
        }
        else
        {
            known = new OpenApiResponse { Description = description };
            operation.Responses[key] = known;
        }
        foreach (var (name, text) in headers)
        {
            known.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
            known.Headers[name] = new OpenApiHeader { Description = text, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        }
    }

    /// <summary>Every error is <c>application/problem+json</c> (see <see cref="ProblemJsonWriter"/>), whatever the route declared.</summary>
    private static void Retarget(IOpenApiResponse response, OpenApiDocument document)
    {
        if (response is not OpenApiResponse problem)
        {
            return;
        }
        problem.Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
        {
            [ProblemJsonWriter.ContentType] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) },
        };
    }
}
