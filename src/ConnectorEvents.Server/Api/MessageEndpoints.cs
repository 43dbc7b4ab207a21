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
            string? channel, string? since, string? until, string? cursor, string? limit) =>
        {
            var take = QueryLimit(limit);
            var page = store.ListMessages(new MessageQuery(QueryId(clientId, "clientId"), QueryId(integrationId, "integrationId"),
                QueryEnum<MessageStatus>(status, "status"), QueryCursor(cursor), take, QueryEnum<WebhookChannel>(channel, "channel"),
                QueryTime(since, "since"), QueryTime(until, "until")));
            return TypedResults.Ok(new MessageList(page.Select(MessageSummary.From).ToList(),
                page.Count == take ? page[^1].Seq.ToString(CultureInfo.InvariantCulture) : null));
        }).WithName("ListMessages").WithSummary("List messages").WithDescription("Newest first. Pass the returned Cursor to get the next page. since and until (ISO 8601 times) bound the " +
            "creation time: from since, to before until.");

        group.MapGet("/{id}", Ok<MessageDetail> (string id, IConnectorStore store) =>
        {
            var message = store.FindMessage(id) ?? throw ApiProblemException.NotFound("message", id);
            return TypedResults.Ok(new MessageDetail(MessageSummary.From(message), MaskedBody(message), store.ListAttempts(message.Seq)));
        }).WithName("GetMessage").WithSummary("Get a message with its attempts").WithDescription("The body as sent, except that an access token in it shows only its prefix.");

        group.MapPost("/{id}/retry", async Task<Accepted<MessageSummary>> (string id, MessageService messages) =>
        {
            var requeued = await messages.RetryAsync(id);
            return TypedResults.Accepted($"/api/v1/messages/{id}", MessageSummary.From(requeued));
        }).WithName("RetryMessage").WithSummary("Send a message again").ProducesProblem(409)
            .WithDescription("Sends a Delivered or Failed message again, with the same webhook-id, after what is queued for its integration.");
    }

    /// <summary>
    /// <c>POST {group}/{id}/recover</c> on the clients' or the integrations' group: every Failed message of the client or the
    /// integration created in the window goes out again.
    /// </summary>
    public static void MapRecover(this RouteGroupBuilder group, string owner)
    {
        ArgumentNullException.ThrowIfNull(group);
        var ofClient = owner == "client";
        group.MapPost("/{id}/recover", async Task<Accepted<RecoveryReceipt>> (
            string id, HttpRequest request, IConnectorStore store, MessageService messages, TimeProvider time) =>
        {
            var ownerId = ParseId(id, owner);
            var body = await request.ReadJsonAsync(ApiJsonContext.Default.RecoverRequest);
            var since = body.Since ?? throw ApiProblemException.Invalid("Since", "is required: the creation time the window starts at.");
            var until = body.Until ?? time.GetUtcNow();
            if (since >= until)
            {
                throw ApiProblemException.Invalid("Until", "must be later than Since.");
            }
            var channel = QueryEnum<WebhookChannel>(body.Channel, "Channel");
            if (ofClient ? store.FindClient(ownerId) is null : store.FindIntegration(ownerId) is null)
            {
                throw ApiProblemException.NotFound(owner, id);
            }
            var receipt = await messages.RecoverAsync(new FailedMessageQuery(
                ofClient ? ownerId : null, ofClient ? null : ownerId, channel, since, until, MessageService.MaxRecoveredPerCall));
            return TypedResults.Accepted((string?)null, receipt);
        }).Accepts<RecoverRequest>("application/json").WithName(ofClient ? "RecoverClientMessages" : "RecoverIntegrationMessages")
            .WithSummary(ofClient ? "Send a client's failed messages again" : "Send an integration's failed messages again")
            .WithDescription($"Sends every Failed message of the {owner} created from Since to before Until (default now), of one " +
                $"Channel (Integration or General) or both, again: in the order they were first queued, with their webhook-ids, " +
                $"each after what its integration has queued now. At most {MessageService.MaxRecoveredPerCall:N0} per call: More " +
                "says that the window holds more; call again with the same window to send the next ones.");
    }

    /// <summary>The body, with the token of a message that carries one cut to its prefix: only its issue shows a token.</summary>
    public static JsonElement MaskedBody(MessageRecord message)
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
