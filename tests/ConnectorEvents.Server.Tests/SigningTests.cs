using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>What every POST carries, and signatures checked against the client's secret(s) by the test itself.</summary>
public sealed class SigningTests
{
    [Fact]
    public void The_test_verifier_reproduces_the_standard_webhooks_test_vector()
    {
        var webhook = new ReceivedWebhook("/", "", new Dictionary<string, string>
        {
            ["webhook-id"] = "msg_p5jXN8AQM9LWM0D4loKWxJek",
            ["webhook-timestamp"] = "1614265330",
            ["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        }, Encoding.UTF8.GetBytes("{\"test\": 2432232314}"), 0);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            StandardWebhooks.ExpectedSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                webhook.Body));
        Assert.True(StandardWebhooks.IsSignedBy(webhook, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        Assert.False(StandardWebhooks.IsSignedBy(webhook, "whsec_" + Convert.ToBase64String(new byte[24])));
    }

    [Fact]
    public async Task Every_post_is_json_with_user_agent_and_a_signature_that_verifies_with_the_client_secret()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, secret) = await server.SeedAsync(sink.Url("/hook?Token=t0k3n-Secret_1&tenant=a"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await server.PostAsync($"/api/v1/integrations/{id}/enable");

        await sink.WaitForAsync(3, Delivery.WaitLimit);
        var messages = await server.MessagesAsync(id);
        Assert.Equal(3, messages.Length);
        var received = sink.Received;
        Assert.Equal(3, received.Count);
        var version = typeof(WebhookSender).Assembly.GetName().Version!;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var i = 0; i < 3; i++)
        {
            var webhook = received[i];
            Assert.Equal("/hook", webhook.Path);
            Assert.Equal("?Token=t0k3n-Secret_1&tenant=a", webhook.QueryString);
            Assert.Equal("application/json; charset=utf-8", webhook.Header("Content-Type"));
            Assert.Matches(new Regex(@"^ConnectorEvents/\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"), webhook.Header("User-Agent"));
            Assert.StartsWith($"ConnectorEvents/{version.Major}.{version.Minor}.{version.Build}", webhook.Header("User-Agent"),
                StringComparison.Ordinal);
            Assert.Equal((string)messages[i]["Id"]!, webhook.Header("webhook-id"));
            Assert.Matches(new Regex("^msg_[0-9a-f]{32}$"), webhook.MessageId);

            var timestamp = long.Parse(webhook.Header("webhook-timestamp"), NumberStyles.None, CultureInfo.InvariantCulture);
            Assert.InRange(timestamp, now - 300, now + 300);

            var signature = Assert.Single(StandardWebhooks.SignaturesOf(webhook));
            Assert.Equal(StandardWebhooks.ExpectedSignature(secret, webhook.MessageId, webhook.Header("webhook-timestamp"), webhook.Body),
                signature);

            // The body is the stored message, byte for byte as JSON (the API shows a token only by its prefix).
            var detail = await server.MessageAsync(webhook.MessageId);
            Assert.True(JsonNode.DeepEquals(detail["Body"], Delivery.AsShownByTheApi(webhook.Body)));
        }
        Assert.Equal(["IntegrationCreated", "IntegrationDisabled", "IntegrationEnabled"], received.Select(Delivery.ActionOf));

        // The signature covers id, timestamp and body: a changed byte no longer verifies.
        var tampered = received[0] with { Body = [.. received[0].Body, (byte)' '] };
        Assert.False(StandardWebhooks.IsSignedBy(tampered, secret));
        var otherId = received[0] with
        {
            Headers = new Dictionary<string, string>(received[0].Headers) { ["webhook-id"] = received[1].MessageId },
        };
        Assert.False(StandardWebhooks.IsSignedBy(otherId, secret));
    }

    [Fact]
    public async Task A_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["Security:SecretRotationOverlap"] = "00:01:00" }, time);
        var (enterpriseId, clientId, oldSecret) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await sink.WaitForAsync(1, Delivery.WaitLimit);
        var first = sink.Received[0];
        Assert.Single(StandardWebhooks.SignaturesOf(first));
        Assert.True(StandardWebhooks.IsSignedBy(first, oldSecret));

        var rotated = await server.PostAsync($"/api/v1/clients/{clientId}/rotate-secret");
        var newSecret = (string)rotated["SigningSecret"]!;
        Assert.StartsWith("whsec_", newSecret, StringComparison.Ordinal);
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(time.GetUtcNow().AddMinutes(1).ToUnixTimeSeconds(),
            DateTimeOffset.Parse((string)rotated["PreviousSecretsExpireUtc"]!, CultureInfo.InvariantCulture).ToUnixTimeSeconds());

        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        var during = sink.Received[1];
        var signatures = StandardWebhooks.SignaturesOf(during);
        Assert.Equal(2, signatures.Length);
        Assert.All(signatures, s => Assert.StartsWith("v1,", s, StringComparison.Ordinal));
        var byOld = StandardWebhooks.ExpectedSignature(oldSecret, during.MessageId, during.Header("webhook-timestamp"), during.Body);
        var byNew = StandardWebhooks.ExpectedSignature(newSecret, during.MessageId, during.Header("webhook-timestamp"), during.Body);
        Assert.Equal(new[] { byNew, byOld }.Order(StringComparer.Ordinal), signatures.Order(StringComparer.Ordinal));
        await server.WaitForMessageAsync(during.MessageId, "Delivered");

        // Past the overlap the old secret is gone: one signature, by the new secret.
        time.Advance(TimeSpan.FromSeconds(61));
        await server.PostAsync($"/api/v1/integrations/{id}/enable");
        await sink.WaitForAsync(3, Delivery.WaitLimit);
        var after = sink.Received[2];
        var only = Assert.Single(StandardWebhooks.SignaturesOf(after));
        Assert.Equal(StandardWebhooks.ExpectedSignature(newSecret, after.MessageId, after.Header("webhook-timestamp"), after.Body), only);
        Assert.False(StandardWebhooks.IsSignedBy(after, oldSecret));
    }
}
