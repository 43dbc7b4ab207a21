using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// Standard Webhooks verification written from the specification, on purpose without the server's signer:
/// <c>v1,</c> + base64(HMAC-SHA256(key, "{id}.{timestamp}." + body)), key = base64 after <c>whsec_</c>.
/// </summary>
internal static class StandardWebhooks
{
    public static string ExpectedSignature(string secret, string id, string timestamp, byte[] body)
    {
        const string prefix = "whsec_";
        Assert.StartsWith(prefix, secret, StringComparison.Ordinal);
        var key = Convert.FromBase64String(secret[prefix.Length..]);
        var signed = Encoding.UTF8.GetBytes(id + "." + timestamp + ".").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    /// <summary>The <c>v1,…</c> entries of a <c>webhook-signature</c> header.</summary>
    public static string[] SignaturesOf(ReceivedWebhook webhook) =>
        webhook.Header("webhook-signature").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>True when one of the header's signatures is the one <paramref name="secret"/> makes.</summary>
    public static bool IsSignedBy(ReceivedWebhook webhook, string secret) =>
        SignaturesOf(webhook).Contains(
            ExpectedSignature(secret, webhook.Header("webhook-id"), webhook.Header("webhook-timestamp"), webhook.Body),
            StringComparer.Ordinal);

    /// <summary>
    /// True when one of the header's <c>v1a,</c> entries is an Ed25519 signature (RFC 8032, checked with NSec, not the
    /// server's signer) of <c>{id}.{timestamp}.{body}</c> under <paramref name="publicKey"/> (<c>whpk_</c> + base64).
    /// </summary>
    public static bool IsSignedByPublicKey(ReceivedWebhook webhook, string publicKey)
    {
        const string prefix = "whpk_";
        Assert.StartsWith(prefix, publicKey, StringComparison.Ordinal);
        var key = NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519,
            Convert.FromBase64String(publicKey[prefix.Length..]), NSec.Cryptography.KeyBlobFormat.RawPublicKey);
        var signed = Encoding.UTF8.GetBytes(webhook.Header("webhook-id") + "." + webhook.Header("webhook-timestamp") + ".")
            .Concat(webhook.Body).ToArray();
        return SignaturesOf(webhook).Where(s => s.StartsWith("v1a,", StringComparison.Ordinal))
            .Any(s => NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(key, signed, Convert.FromBase64String(s["v1a,".Length..])));
    }
}

/// <summary>Polling and reading helpers shared by the delivery tests. Every wait is bounded.</summary>
internal static class Delivery
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    /// <summary>A body as the messages API shows it (a token cut to its prefix), to compare a received copy with.</summary>
    public static JsonNode? AsShownByTheApi(byte[] body) => ConnectorEvents.Core.Security.TokenBearingMessages.Masked(body);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A short real pause before checking that something has <em>not</em> happened (used with a fake clock).</summary>
    public static Task QuietPeriodAsync(int milliseconds = 300) => Task.Delay(milliseconds, Ct);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? WaitLimit))
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>The integration's messages in the order they were written (the API lists newest first).</summary>
    public static async Task<JsonObject[]> MessagesAsync(this RunningServer server, Guid integrationId)
    {
        var page = await server.GetAsync($"/api/v1/messages?integrationId={integrationId}&limit=500");
        return ((JsonArray)page["Messages"]!).Select(m => (JsonObject)m!).Reverse().ToArray();
    }

    public static async Task<string[]> MessageIdsAsync(this RunningServer server, Guid integrationId) =>
        (await server.MessagesAsync(integrationId)).Select(m => (string)m["Id"]!).ToArray();

    public static async Task<string> SingleMessageIdAsync(this RunningServer server, Guid integrationId) =>
        Assert.Single(await server.MessageIdsAsync(integrationId));

    public static Task<JsonObject> MessageAsync(this RunningServer server, string messageId) =>
        server.GetAsync($"/api/v1/messages/{messageId}");

    public static JsonObject[] AttemptsOf(JsonObject detail) =>
        ((JsonArray)detail["Attempts"]!).Select(a => (JsonObject)a!).ToArray();

    /// <summary>Waits until the message has recorded at least <paramref name="count"/> attempts; returns its detail.</summary>
    public static async Task<JsonObject> WaitForAttemptsAsync(this RunningServer server, string messageId, int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var detail = await server.MessageAsync(messageId);
            if ((int)detail["Message"]!["AttemptCount"]! >= count && AttemptsOf(detail).Length >= count)
            {
                return detail;
            }
            if (clock.Elapsed > WaitLimit)
            {
                throw new TimeoutException($"Message {messageId} has not recorded {count} attempts: {detail.ToJsonString()}");
            }
            await Task.Delay(20, Ct);
        }
    }

    public static async Task<JsonObject> WaitForClientAsync(this RunningServer server, Guid clientId, Func<JsonObject, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var client = await server.GetAsync($"/api/v1/clients/{clientId}");
            if (condition(client))
            {
                return client;
            }
            if (clock.Elapsed > WaitLimit)
            {
                throw new TimeoutException($"Client {clientId} never got {what}: {client.ToJsonString()}");
            }
            await Task.Delay(20, Ct);
        }
    }

    public static string ActionOf(ReceivedWebhook webhook) => (string)JsonNode.Parse(webhook.Body)!["Action"]!;

    /// <summary>
    /// A loopback port that refuses connections: bound (so no other test can take it) but never listening.
    /// Dispose it when the test ends.
    /// </summary>
    public static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    public static Task Answer(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    public static Task Redirect(HttpContext context, int status, string location)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    /// <summary>Never answers: waits until the sender gives up (or the test's bound passes).</summary>
    public static async Task Hang(HttpContext context)
    {
        try
        {
            await Task.Delay(WaitLimit, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
