using System.Globalization;
using System.Net;
using System.Text;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class ListenForwardTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /// <summary>A running <c>listen</c>: its port, what it printed, and a way to stop it.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
        private Task<int> _run = Task.FromResult(0);

        public SharedWriter Output { get; } = new();

        public SharedWriter Error { get; } = new();

        public int Port { get; } = CliRun.FreePort();

        public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/hook";

        public static async Task<Listener> StartAsync(params string[] args)
        {
            var listener = new Listener();
            listener._run = CliApp.RunAsync(["listen", "--port", listener.Port.ToString(CultureInfo.InvariantCulture), .. args],
                listener.Output, listener.Error, listener._stop.Token);
            await SharedWriter.WaitUntilAsync(() => listener.Output.Text().Contains("Listening on", StringComparison.Ordinal) || listener._run.IsCompleted,
                "the listener to start");
            Assert.False(listener._run.IsCompleted, listener.Error.Text());
            return listener;
        }

        public Task WaitForAsync(string text) =>
            SharedWriter.WaitUntilAsync(() => Output.Text().Contains(text, StringComparison.Ordinal), $"'{text}' to be printed");

        public async Task<int> StopAsync()
        {
            await _stop.CancelAsync();
            return await _run.WaitAsync(TimeSpan.FromSeconds(15));
        }

        public async ValueTask DisposeAsync()
        {
            if (!_run.IsCompleted)
            {
                await StopAsync();
            }
            _stop.Dispose();
            Output.Dispose();
            Error.Dispose();
        }
    }

    [Fact]
    public async Task Forward_to_relays_the_body_and_the_signature_headers_byte_for_byte_and_answers_with_the_endpoints_status()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"Handled\":true}");
        };
        await using var listener = await Listener.StartAsync("--secret", Secret, "--forward-to", sink.Url("/webhooks"));
        var body = Samples.Find(ContractVersion.Default, "IntegrationCreated")!.Body;
        const string id = "msg_forward_1";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = WebhookSigner.Sign([SigningKey.Hmac(Convert.FromBase64String(Secret["whsec_".Length..]))], id, long.Parse(timestamp, CultureInfo.InvariantCulture), body);

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, listener.Url + "?Token=t0p-secret") { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        request.Headers.TryAddWithoutValidation("X-Trace", "trace-42");
        request.Headers.TryAddWithoutValidation("X-Hop", "connection-only");
        request.Headers.Connection.Add("X-Hop");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        await listener.WaitForAsync("forwarded to");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("{\"Handled\":true}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var forwarded = Assert.Single(sink.Received);
        Assert.Equal(body, forwarded.Body);
        Assert.Equal(id, forwarded.Header("webhook-id"));
        Assert.Equal(timestamp, forwarded.Header("webhook-timestamp"));
        Assert.Equal(signature, forwarded.Header("webhook-signature"));
        Assert.Equal("application/json; charset=utf-8", forwarded.Header("content-type"));
        Assert.Equal("trace-42", forwarded.Header("x-trace"));
        Assert.Equal("", forwarded.Header("x-hop"));
        Assert.Equal(sink.BaseUri.Authority, forwarded.Header("host"));
        Assert.Equal("/webhooks", forwarded.Path);
        Assert.Equal("?Token=t0p-secret", forwarded.QueryString);
        Assert.True(CliRun.SignatureMatches(Secret, forwarded.MessageId, forwarded.Header("webhook-timestamp"), forwarded.Body,
            forwarded.Header("webhook-signature")));

        var output = listener.Output.Text();
        Assert.Contains("POST /hook → 202", output, StringComparison.Ordinal);
        Assert.Contains("verified ✓", output, StringComparison.Ordinal);
        Assert.Contains($"forwarded to {sink.Url("/webhooks")}?Token=*** → 202 Accepted in", output, StringComparison.Ordinal);
        Assert.Contains("forwarding to", output, StringComparison.Ordinal);
        Assert.DoesNotContain("t0p-secret", output, StringComparison.Ordinal);
        Assert.Equal(0, await listener.StopAsync());
    }

    [Fact]
    public async Task Forward_to_an_endpoint_that_is_down_answers_502_and_says_why()
    {
        var down = $"http://127.0.0.1:{CliRun.FreePort().ToString(CultureInfo.InvariantCulture)}/webhooks";
        await using var listener = await Listener.StartAsync("--forward-to", down);

        var trigger = await CliRun.RunAsync("trigger", "IntegrationEnabled", "--url", listener.Url);
        await listener.WaitForAsync("could not forward");

        Assert.Equal(ExitCodes.NotAccepted, trigger.ExitCode);
        Assert.Contains("502", trigger.Output, StringComparison.Ordinal);
        var output = listener.Output.Text();
        Assert.Contains($"could not forward to {down}: connection refused", output, StringComparison.Ordinal);
        Assert.Contains("Answered 502.", output, StringComparison.Ordinal);
        Assert.Contains("POST /hook → 502", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Print_json_prints_each_body_indented_after_its_summary()
    {
        await using var listener = await Listener.StartAsync("--print-json");

        var trigger = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", listener.Url);
        await listener.WaitForAsync("\"Action\"");

        Assert.Equal(0, trigger.ExitCode);
        var lines = listener.Output.Text().ReplaceLineEndings("\n").Split('\n');
        var summary = Array.FindIndex(lines, l => l.Contains("POST /hook → 200", StringComparison.Ordinal));
        var action = Array.FindIndex(lines, l => l == "    \"Action\": \"IntegrationCreated\",");
        Assert.True(summary >= 0 && action > summary, string.Join('\n', lines));
        Assert.Contains("  {", lines);
        Assert.Contains("  }", lines);
    }

    [Fact]
    public async Task Forward_to_refuses_a_bad_url_and_a_status_of_its_own()
    {
        var badUrl = await CliRun.RunAsync("listen", "--port", "0", "--forward-to", "127.0.0.1:5000/webhooks");
        var withStatus = await CliRun.RunAsync("listen", "--port", "0", "--forward-to", "http://127.0.0.1:5000/webhooks", "--status", "500");

        Assert.Equal(ExitCodes.InvalidInput, badUrl.ExitCode);
        Assert.Contains("--forward-to must be an absolute http:// or https:// URL", badUrl.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, withStatus.ExitCode);
        Assert.Contains("--status and --forward-to exclude each other", withStatus.Error, StringComparison.Ordinal);
    }
}
