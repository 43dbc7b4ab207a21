using ConnectorEvents.Server.Hosting;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>Retention: settled messages go after their period, with their attempts; Pending ones and delivery order stay.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Delivered_and_skipped_messages_go_after_30_days_failed_ones_after_90_and_pending_ones_stay()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path.StartsWithSegments("/gone") ? 410 : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Retention:BatchSize"] = "2" }, time);
        var (enterpriseId, okClient, _) = await server.SeedAsync(sink.Url("/ok?Token=r1"));
        var goneClient = (Guid)(await server.PostAsync("/api/v1/clients", new { Name = "Gone", IntegrationWebhookUrl = sink.Url("/gone?Token=r2") }))["Id"]!;
        var noUrlClient = (Guid)(await server.PostAsync("/api/v1/clients", new { Name = "No URL" }))["Id"]!;

        var ok = await server.CreateIntegrationAsync(enterpriseId, okClient);
        await server.PostAsync($"/api/v1/integrations/{ok}/disable");
        var delivered = await server.MessageIdsAsync(ok);
        var failed = await server.SingleMessageIdAsync(await server.CreateIntegrationAsync(enterpriseId, goneClient));
        var skipped = await server.SingleMessageIdAsync(await server.CreateIntegrationAsync(enterpriseId, noUrlClient));
        foreach (var id in delivered)
        {
            await server.WaitForMessageAsync(id, "Delivered");
        }
        await server.WaitForMessageAsync(failed, "Failed");
        await server.WaitForClientAsync(goneClient, c => !(bool)c["IntegrationWebhookEnabled"]!, "its URL disabled");
        // Parked behind the disabled URL: Pending for as long as it takes.
        var pending = await server.SingleMessageIdAsync(await server.CreateIntegrationAsync(enterpriseId, goneClient));
        var sweeper = server.Services.GetRequiredService<RetentionSweeper>();

        // The hosted sweep runs as the clock passes its interval; one more run here makes sure it has run at this time.
        time.Advance(TimeSpan.FromDays(29));
        Assert.Equal(0, await sweeper.SweepAsync(Delivery.Ct));
        foreach (var id in delivered.Append(skipped).Append(failed))
        {
            await server.GetAsync($"/api/v1/messages/{id}");
        }

        time.Advance(TimeSpan.FromDays(2));
        await sweeper.SweepAsync(Delivery.Ct); // in batches of 2, beside the hosted one
        foreach (var id in delivered.Append(skipped))
        {
            await server.GetAsync($"/api/v1/messages/{id}", expectedStatus: 404);
        }
        Assert.Equal("Failed", (string)(await server.MessageAsync(failed))["Message"]!["Status"]!);
        Assert.Equal("Pending", (string)(await server.MessageAsync(pending))["Message"]!["Status"]!);

        // Delivery goes on in order after the deletions: positions are numbered on from the newest message, which stays.
        await server.PostAsync($"/api/v1/integrations/{ok}/enable");
        var enabled = Assert.Single(await server.MessageIdsAsync(ok));
        await server.WaitForMessageAsync(enabled, "Delivered");
        // A later one, so that the one just delivered is not the newest (which SQLite keeps, whatever its age).
        await server.PostAsync($"/api/v1/integrations/{ok}/disable");
        await server.WaitForMessageAsync((await server.MessageIdsAsync(ok))[^1], "Delivered");

        // The hosted sweep, on its own interval: at 91 days the Failed one goes too; the Pending one never does.
        time.Advance(TimeSpan.FromDays(60));
        await Delivery.WaitUntilAsync(() => Gone(server, failed) && Gone(server, enabled), "the Failed message deleted at 91 days");
        Assert.Equal("Pending", (string)(await server.MessageAsync(pending))["Message"]!["Status"]!);
    }

    private static bool Gone(RunningServer server, string messageId)
    {
        using var response = server.Api.GetAsync($"/api/v1/messages/{messageId}").GetAwaiter().GetResult();
        return response.StatusCode == System.Net.HttpStatusCode.NotFound;
    }

    [Fact]
    public async Task Retention_settings_out_of_range_stop_the_start_with_every_problem_named()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Retention:DeliveredMessages"] = "-1.00:00:00",
            ["Retention:Interval"] = "00:00:00",
            ["Retention:BatchSize"] = "0",
        }));
        Assert.Contains("Retention:DeliveredMessages", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retention:Interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retention:BatchSize", error.Message, StringComparison.Ordinal);
    }
}
