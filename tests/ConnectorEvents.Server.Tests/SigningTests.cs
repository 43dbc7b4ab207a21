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

    [Fact]
    public async Task An_Ed25519_client_gets_v1a_signatures_its_public_key_verifies_and_the_secret_key_is_never_shown()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Ed25519 Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Ed25519 App", IntegrationWebhookUrl = sink.Url(), SigningScheme = "Ed25519" });
        Assert.Equal("Ed25519", (string)client["SigningScheme"]!);
        Assert.Null(client["SigningSecret"]);
        var publicKey = (string)Assert.Single(client["SigningPublicKeys"]!.AsArray())!;
        Assert.Matches("^whpk_[A-Za-z0-9+/]{43}=$", publicKey);
        await server.PostAsync("/api/v1/integrations", new { EnterpriseId = (string)enterprise["Id"]!, ClientId = (string)client["Id"]! });

        await sink.WaitForAsync(1, Delivery.WaitLimit);
        var webhook = sink.Received[0];
        var signature = Assert.Single(StandardWebhooks.SignaturesOf(webhook));
        Assert.StartsWith("v1a,", signature, StringComparison.Ordinal);
        Assert.True(StandardWebhooks.IsSignedByPublicKey(webhook, publicKey));
        Assert.False(StandardWebhooks.IsSignedByPublicKey(webhook with { Body = [.. webhook.Body, (byte)' '] }, publicKey));
        Assert.False(StandardWebhooks.IsSignedByPublicKey(webhook, WebhookSigner.NewEd25519Secret().PublicKey));

        // The integrator reads the key without a management key; the API never shows a whsk_.
        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };
        var keys = JsonNode.Parse(await anonymous.GetStringAsync($"/signing-keys/{client["Id"]}", Delivery.Ct))!;
        Assert.Equal(publicKey, (string)keys["Keys"]![0]!["PublicKey"]!);
        Assert.Null(keys["Keys"]![0]!["ExpiresUtc"]);
        var one = await server.GetAsync($"/api/v1/clients/{client["Id"]}");
        var all = await server.GetAsync("/api/v1/clients");
        Assert.Equal(publicKey, (string)Assert.Single(one["SigningPublicKeys"]!.AsArray())!);
        Assert.Equal(publicKey, (string)Assert.Single(Assert.Single(all["Clients"]!.AsArray())!["SigningPublicKeys"]!.AsArray())!);
        Assert.All([one, all], answer => Assert.DoesNotContain("whsk_", answer.ToJsonString(), StringComparison.Ordinal));
        var hmac = await server.PostAsync("/api/v1/clients", new { Name = "HMAC App" });
        foreach (var unknown in new[] { Guid.NewGuid().ToString(), (string)hmac["Id"]! })
        {
            using var answer = await anonymous.GetAsync($"/signing-keys/{unknown}", Delivery.Ct);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Moving_a_client_from_HMAC_to_Ed25519_signs_with_both_through_the_overlap_then_Ed25519_alone()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["Security:SecretRotationOverlap"] = "00:01:00" }, time);
        var (enterpriseId, clientId, hmacSecret) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await sink.WaitForAsync(1, Delivery.WaitLimit);

        var moved = await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { SigningScheme = "ed25519" });
        Assert.Equal("Ed25519", (string)moved["SigningScheme"]!);
        Assert.Null(moved["SigningSecret"]);
        var publicKey = (string)Assert.Single(moved["SigningPublicKeys"]!.AsArray())!;

        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        var during = sink.Received[1];
        Assert.Equal(["v1", "v1a"], StandardWebhooks.SignaturesOf(during).Select(s => s.Split(',')[0]).Order(StringComparer.Ordinal));
        Assert.True(StandardWebhooks.IsSignedBy(during, hmacSecret));
        Assert.True(StandardWebhooks.IsSignedByPublicKey(during, publicKey));
        await server.WaitForMessageAsync(during.MessageId, "Delivered");

        // A rotation of an Ed25519 client shows the new public key, never the secret; both keys sign during the overlap.
        time.Advance(TimeSpan.FromSeconds(61));
        var rotated = await server.PostAsync($"/api/v1/clients/{clientId}/rotate-secret");
        Assert.Null(rotated["SigningSecret"]);
        var nextKey = (string)rotated["SigningPublicKey"]!;
        Assert.NotEqual(publicKey, nextKey);
        await server.PostAsync($"/api/v1/integrations/{id}/enable");
        await sink.WaitForAsync(3, Delivery.WaitLimit);
        var after = sink.Received[2];
        Assert.Equal(["v1a", "v1a"], StandardWebhooks.SignaturesOf(after).Select(s => s.Split(',')[0]));
        Assert.False(StandardWebhooks.IsSignedBy(after, hmacSecret)); // the HMAC secret's overlap is over
        Assert.True(StandardWebhooks.IsSignedByPublicKey(after, publicKey));
        Assert.True(StandardWebhooks.IsSignedByPublicKey(after, nextKey));
        var listed = await server.GetAsync($"/api/v1/clients/{clientId}");
        Assert.Equal([nextKey, publicKey], listed["SigningPublicKeys"]!.AsArray().Select(k => (string)k!));
    }

    [Theory]
    [InlineData("""{"Name":"x","SigningScheme":"RSA"}""")]
    [InlineData("""{"Name":"x","SigningScheme":"1"}""")]
    [InlineData("""{"Name":"x","SigningScheme":""}""")]
    public async Task An_unknown_signing_scheme_is_a_400_naming_the_field(string body)
    {
        await using var server = await RunningServer.StartAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var answer = await server.Api.PostAsync("/api/v1/clients", content, Delivery.Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("SigningScheme", await answer.Content.ReadAsStringAsync(Delivery.Ct), StringComparison.Ordinal);
    }
}
