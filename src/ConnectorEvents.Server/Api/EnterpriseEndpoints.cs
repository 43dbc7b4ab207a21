using ConnectorEvents.Core.Enterprises;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

public static class EnterpriseEndpoints
{
    public static void MapEnterprises(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/enterprises").WithTags("Enterprises");

        group.MapPost("/", async Task<Created<EnterpriseResponse>> (HttpRequest request, EnterpriseService enterprises) =>
        {
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateEnterpriseRequest);
            var created = await enterprises.CreateAsync(body.Id, RequireName(body.Name));
            return TypedResults.Created($"/api/v1/enterprises/{created.Id}", EnterpriseResponse.From(created));
        }).Accepts<CreateEnterpriseRequest>("application/json").WithName("CreateEnterprise").WithSummary("Create an enterprise");

        group.MapGet("/", Ok<EnterpriseList> (IConnectorStore store, string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListEnterprises(take, QueryId(cursor, "cursor"));
            return TypedResults.Ok(new EnterpriseList(
                page.Select(EnterpriseResponse.From).ToList(), page.Count == take ? page[^1].Id.ToString() : null));
        }).WithName("ListEnterprises").WithSummary("List enterprises");

        group.MapGet("/{id}", Ok<EnterpriseResponse> (string id, IConnectorStore store) =>
            TypedResults.Ok(EnterpriseResponse.From(
                store.FindEnterprise(ParseId(id, "enterprise")) ?? throw ApiProblemException.NotFound("enterprise", id))))
            .WithName("GetEnterprise").WithSummary("Get an enterprise");

        group.MapDelete("/{id}", async Task<NoContent> (string id, EnterpriseService enterprises) =>
        {
            await enterprises.DeleteAsync(ParseId(id, "enterprise"));
            return TypedResults.NoContent();
        }).WithName("DeleteEnterprise").WithSummary("Delete an enterprise").ProducesProblem(409)
            .WithDescription("Deletes the enterprise, its services, its General event log and its Deleted integrations; emits " +
                "nothing. 409 while one of its integrations is not Deleted, or a message of them is still pending delivery. " +
                "Their messages stay, listed by integration and by id (and cannot be retried), until retention takes them.");

        group.MapPost("/{enterpriseId}/services", async Task<Created<ServiceResponse>> (
            string enterpriseId, HttpRequest request, EnterpriseService enterprises) =>
        {
            var id = ParseId(enterpriseId, "enterprise");
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.CreateServiceRequest);
            var created = await enterprises.CreateServiceAsync(id, body.Id, RequireName(body.Name));
            return TypedResults.Created($"/api/v1/enterprises/{id}/services/{created.Id}", ServiceResponse.From(created));
        }).Accepts<CreateServiceRequest>("application/json").WithName("CreateService").WithSummary("Create a service of an enterprise");

        group.MapGet("/{enterpriseId}/services", Ok<ServiceList> (string enterpriseId, IConnectorStore store) =>
        {
            var id = ParseId(enterpriseId, "enterprise");
            _ = store.FindEnterprise(id) ?? throw ApiProblemException.NotFound("enterprise", enterpriseId);
            return TypedResults.Ok(new ServiceList(store.ListServices(id).Select(ServiceResponse.From).ToList()));
        }).WithName("ListServices").WithSummary("List an enterprise's services");
    }
}
