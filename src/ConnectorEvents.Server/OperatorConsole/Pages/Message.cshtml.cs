using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Api;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>One message: its body as sent (pretty, an access token cut to its prefix), every attempt with the answer's start, and retry.</summary>
public sealed class MessageModel(IConnectorStore store, MessageService messages) : ConsolePageModel
{

    public MessageRecord Message { get; private set; } = null!;
    public string Body { get; private set; } = "";
    public IReadOnlyList<AttemptRecord> Attempts { get; private set; } = [];
    public string ClientName { get; private set; } = "";
    public string IntegrationName { get; private set; } = "";

    public IActionResult OnGet(string id)
    {
        if (store.FindMessage(id) is not { } message)
        {
            return NotFound();
        }
        Message = message;
        Body = Indented(MessageEndpoints.MaskedBody(message));
        Attempts = store.ListAttempts(message.Seq);
        ClientName = store.FindClient(message.ClientId)?.Name ?? "(deleted)";
        IntegrationName = store.FindIntegration(message.IntegrationId)?.Name ?? "(deleted)";
        return Page();
    }

    public Task<IActionResult> OnPostRetryAsync(string id) => ActAsync(async () =>
    {
        await messages.RetryAsync(id).ConfigureAwait(false);
        return "The message is queued again, with the same webhook-id.";
    }, new { id });

    /// <summary>Indented, with every character as it is (the page encodes it for HTML).</summary>
    private static string Indented(JsonElement body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // Stored already cut to WebhookSender.ResponseBodyLimit: shown whole.
    public static string Answer(string? body) => body ?? "(no body)";
}
