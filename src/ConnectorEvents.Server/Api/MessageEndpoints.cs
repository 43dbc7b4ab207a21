using System.Globalization;
using System.Text.Json;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

public static class MessageEndpoints
{
    public static void MapMessages(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/messages").WithTags("Messages");

        group.MapGet("/", Ok<MessageList> (IConnectorStore store, string? clientId, string? integrationId, string? status,
            string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListMessages(new MessageQuery(QueryId(clientId, "clientId"), QueryId(integrationId, "integrationId"),
                QueryEnum<MessageStatus>(status, "status"), QueryCursor(cursor), take));
            return TypedResults.Ok(new MessageList(page.Select(MessageSummary.From).ToList(),
                page.Count == take ? page[^1].Seq.ToString(CultureInfo.InvariantCulture) : null));
        }).WithName("ListMessages").WithDescription("Newest first. Pass the returned Cursor to get the next page.");

        group.MapGet("/{id}", Ok<MessageDetail> (string id, IConnectorStore store) =>
        {
            var message = store.FindMessage(id) ?? throw ApiProblemException.NotFound("message", id);
            using var body = JsonDocument.Parse(message.Body);
            return TypedResults.Ok(new MessageDetail(MessageSummary.From(message), body.RootElement.Clone(),
                store.ListAttempts(message.Seq)));
        }).WithName("GetMessage");

        group.MapPost("/{id}/retry", async Task<Accepted<MessageSummary>> (string id, MessageService messages) =>
        {
            var requeued = await messages.RetryAsync(id);
            return TypedResults.Accepted($"/api/v1/messages/{id}", MessageSummary.From(requeued));
        }).WithName("RetryMessage").ProducesProblem(409)
            .WithDescription("Sends a Delivered or Failed message again, with the same webhook-id, after what is queued for its integration.");
    }
}
