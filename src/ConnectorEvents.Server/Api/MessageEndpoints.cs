using System.Globalization;
using System.Text.Json;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Security;
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
            return TypedResults.Ok(new MessageDetail(MessageSummary.From(message), MaskedBody(message), store.ListAttempts(message.Seq)));
        }).WithName("GetMessage").WithDescription("The body as sent, except that an access token in it shows only its prefix.");

        group.MapPost("/{id}/retry", async Task<Accepted<MessageSummary>> (string id, MessageService messages) =>
        {
            var requeued = await messages.RetryAsync(id);
            return TypedResults.Accepted($"/api/v1/messages/{id}", MessageSummary.From(requeued));
        }).WithName("RetryMessage").ProducesProblem(409)
            .WithDescription("Sends a Delivered or Failed message again, with the same webhook-id, after what is queued for its integration.");
    }

    /// <summary>The body, with the token of a message that carries one cut to its prefix: only its issue shows a token.</summary>
    private static JsonElement MaskedBody(MessageRecord message)
    {
        if (!TokenBearingMessages.Includes(message.EventType))
        {
            using var body = JsonDocument.Parse(message.Body);
            return body.RootElement.Clone();
        }
        using var masked = JsonDocument.Parse(TokenBearingMessages.Masked(message.Body)!.ToJsonString());
        return masked.RootElement.Clone();
    }
}
