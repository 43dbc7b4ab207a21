using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// The delivery log as an operator reads it: the server's own process with <c>Logging__Console__FormatterName=json</c>, one
/// JSON line per event, its fields structured, and no secret anywhere in the output.
/// </summary>
public sealed class DeliveryLogTests
{
    [Fact]
    public async Task Failed_attempts_given_up_messages_and_disabled_or_reenabled_endpoints_are_one_structured_JSON_line_each()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path.StartsWithSegments("/gone") ? 410 : 500);
        var data = ServerProcess.NewDataDirectory("log");
        await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort(), new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Delivery__RetrySchedule__0"] = "00:00:00.05",
            ["Delivery__RetrySchedule__1"] = "00:00:00.05",
            ["Delivery__Jitter"] = "0",
        });
        using var api = server.CreateApiClient();
        var enterprise = await api.PostJsonAsync("/api/v1/enterprises", new { Name = "Logged Hotel" });
        var failing = await api.PostJsonAsync("/api/v1/clients", new { Name = "Failing", IntegrationWebhookUrl = sink.Url("/fail?Token=log-secret-1") });
        var gone = await api.PostJsonAsync("/api/v1/clients", new { Name = "Gone", IntegrationWebhookUrl = sink.Url("/gone?Token=log-secret-2") });
        var failingIntegration = await api.PostJsonAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = failing["Id"] });
        var goneIntegration = await api.PostJsonAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = gone["Id"] });
        await server.WaitForOutputAsync("\"EventId\":2203", Delivery.WaitLimit);
        await server.WaitForOutputAsync("failed for good after attempt 3", Delivery.WaitLimit);
        using (var patch = await api.PatchAsJsonAsync($"/api/v1/clients/{gone["Id"]}", new { IntegrationWebhookUrl = sink.Url("/gone?Token=log-secret-3") }, Delivery.Ct))
        {
            Assert.True(patch.IsSuccessStatusCode);
        }
        await server.WaitForOutputAsync("\"EventId\":2204", Delivery.WaitLimit);
        await server.StopAsync(TimeSpan.FromSeconds(15));

        var output = server.RecentOutput;
        var lines = output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        JsonObject[] Of(int id) => lines.Where(l => l["EventId"]!.ToString() == id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var failingMessage = Assert.Single(Of(2202), l => (string)l["State"]!["ClientId"]! == (string)failing["Id"]!)["State"]!;
        var messageId = (string)failingMessage["MessageId"]!;

        var attempts = Of(2201);
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a =>
        {
            Assert.Equal("Warning", (string)a["LogLevel"]!);
            var state = a["State"]!;
            Assert.Equal(messageId, (string)state["MessageId"]!);
            Assert.Equal((string)failing["Id"]!, (string)state["ClientId"]!);
            Assert.Equal((string)failingIntegration["Id"]!, (string)state["IntegrationId"]!);
            Assert.Equal("Integration", (string)state["Channel"]!);
            Assert.Equal("http_error", (string)state["Outcome"]!);
            Assert.Equal("500", state["StatusCode"]!.ToString());
            Assert.Equal(sink.Url("/fail") + "?…", (string)state["Url"]!);
        });
        Assert.Equal(["1", "2"], attempts.Select(a => a["State"]!["Attempt"]!.ToString()));
        Assert.Equal("3", failingMessage["Attempt"]!.ToString());
        Assert.Equal("Given up after 3 attempts.", (string)failingMessage["Reason"]!);

        var goneMessage = Assert.Single(Of(2202), l => (string)l["State"]!["ClientId"]! == (string)gone["Id"]!);
        Assert.Equal("Error", (string)goneMessage["LogLevel"]!);
        Assert.Equal((string)goneIntegration["Id"]!, (string)goneMessage["State"]!["IntegrationId"]!);
        Assert.Equal("410", goneMessage["State"]!["StatusCode"]!.ToString());
        var disabled = Assert.Single(Of(2203));
        Assert.Equal("Warning", (string)disabled["LogLevel"]!);
        Assert.Equal((string)gone["Id"]!, (string)disabled["State"]!["ClientId"]!);
        Assert.Equal("Integration", (string)disabled["State"]!["Channel"]!);
        Assert.Equal(sink.Url("/gone") + "?…", (string)disabled["State"]!["Url"]!);
        var reenabled = Assert.Single(Of(2204));
        Assert.Equal("Warning", (string)reenabled["LogLevel"]!);
        Assert.Equal((string)gone["Id"]!, (string)reenabled["State"]!["ClientId"]!);

        foreach (var secret in new[] { "log-secret-1", "log-secret-2", "log-secret-3", (string)failing["SigningSecret"]!, (string)gone["SigningSecret"]!,
                     (string)failing["ClientToken"]!, (string)failingIntegration["AccessToken"]!, RunningServer.AdminKey })
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        }
        ServerProcess.DeleteDataDirectory(data);
    }
}
