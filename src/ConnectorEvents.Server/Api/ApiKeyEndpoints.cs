using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

public static class ApiKeyEndpoints
{
    public static void MapApiKeys(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/api-keys").WithTags("API keys");

        group.MapPost("/", async Task<Created<ApiKeyResponse>> (HttpRequest request, ApiKeyService apiKeys) =>
        {
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateApiKeyRequest);
            var issued = await apiKeys.CreateAsync(RequireName(body.Name),
                QueryEnum<ApiKeyRole>(body.Role, "Role") ?? throw ApiProblemException.Invalid("Role", "is required (Admin, Reader or Producer)."),
                body.EnterpriseIds);
            return TypedResults.Created($"/api/v1/api-keys/{issued.Record.Id}", ApiKeyResponse.From(issued.Record, issued.Key));
        }).Accepts<CreateApiKeyRequest>("application/json").WithName("CreateApiKey").WithSummary("Make an API key").ProducesProblem(403)
            .WithDescription("Makes an API key: Admin (everything), Reader (reads only) or Producer (posts events; only for " +
                "EnterpriseIds when given). The answer carries the Key, which is never shown again.");

        group.MapGet("/", Ok<ApiKeyList> (IConnectorStore store) =>
            TypedResults.Ok(new ApiKeyList(store.ListApiKeys().Select(k => ApiKeyResponse.From(k)).ToList())))
            .WithName("ListApiKeys").WithSummary("List API keys").WithDescription("Every key made through the API, oldest first, with its prefix, never the key.");

        group.MapDelete("/{id}", async Task<NoContent> (string id, ApiKeyService apiKeys) =>
        {
            await apiKeys.DeleteAsync(ParseId(id, "API key"));
            return TypedResults.NoContent();
        }).WithName("DeleteApiKey").WithSummary("Revoke an API key").ProducesProblem(403)
            .WithDescription("Revokes the key at once, on every server process that shares the database.");
    }
}
