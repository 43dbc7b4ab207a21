using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

public sealed class ReceiverTests
{
    private static readonly byte[] Enabled = Samples.Find(ContractVersion.Latest, IntegrationActions.Enabled)!.Body;

    private static CancellationToken Ct => ReceiverApp.Ct;

    public static TheoryData<string> Versions => [.. ContractVersion.All.Select(v => v.Text)];

    [Fact]
    public void The_verifier_reproduces_the_standard_webhooks_test_vector()
    {
        var key = StandardWebhookVerifier.TryReadKey(ReceiverApp.Secret)!;
        var body = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");
        var at = DateTimeOffset.FromUnixTimeSeconds(1614265330);
        const string Signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

        Assert.Equal(VerificationResult.Valid, StandardWebhookVerifier.Verify([key], [], "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
            Signature, body, at, TimeSpan.FromMinutes(5), out _));
        Assert.Equal(VerificationResult.Valid, StandardWebhookVerifier.Verify([key], [], "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
            "v2,abc v1,AAAA " + Signature, body, at, TimeSpan.FromMinutes(5), out _));
        Assert.Equal(VerificationResult.NoMatchingSignature, StandardWebhookVerifier.Verify([key], [], "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330", Signature, Encoding.UTF8.GetBytes("{\"test\": 2432232315}"), at, TimeSpan.FromMinutes(5), out _));
        Assert.Equal(VerificationResult.TimestampOutOfTolerance, StandardWebhookVerifier.Verify([key], [], "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330", Signature, body, at.AddMinutes(6), TimeSpan.FromMinutes(5), out _));
    }

    [Fact]
    public async Task Every_integration_action_and_general_discriminator_reaches_its_typed_handler()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            recorder.RegisterAll(o);
        });

        foreach (var sample in Samples.All(ContractVersion.Latest).Where(s => s.Kind != PayloadKind.WebSocketFrame))
        {
            using var response = await app.PostAsync(sample.Body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var seen = recorder.All;
        Assert.Equal(IntegrationActions.All.Concat(GeneralDiscriminators.All).Append(GeneralDiscriminators.CustomerUpdated).Order(),
            seen.Select(s => s.Name).Order());
        Assert.DoesNotContain(seen, s => s.Data is UnknownWebhookData);
        var created = Assert.IsType<IntegrationCreatedData>(seen.Single(s => s.Name == IntegrationActions.Created).Data);
        Assert.Equal("Sample Chain Hotel 1", created.Enterprise.Name);
        Assert.Equal("Accommodation", created.Service!.Name);
        Assert.IsType<IntegrationStateData>(seen.Single(s => s.Name == IntegrationActions.Enabled).Data);
        Assert.IsType<IntegrationStateData>(seen.Single(s => s.Name == IntegrationActions.Disabled).Data);
        Assert.IsType<IntegrationStateData>(seen.Single(s => s.Name == IntegrationActions.Canceled).Data);
        Assert.IsType<IntegrationStateData>(seen.Single(s => s.Name == IntegrationActions.Reinstated).Data);
        Assert.Equal(new DateTimeOffset(2025, 8, 14, 9, 30, 0, TimeSpan.Zero),
            Assert.IsType<IntegrationDeletedData>(seen.Single(s => s.Name == IntegrationActions.Deleted).Data).DeletedUtc);
        Assert.NotEmpty(Assert.IsType<IntegrationApiKeyCreatedData>(seen.Single(s => s.Name == IntegrationActions.ApiKeyCreated).Data).ApiKey);
        var order = Assert.IsType<GeneralEventData>(seen.Single(s => s.Name == GeneralDiscriminators.ServiceOrderUpdated).Data);
        Assert.Equal(Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d"), order.EntityId);
        Assert.Equal(Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178"), order.EnterpriseId);
        Assert.All(seen, s => Assert.StartsWith("msg_", s.WebhookId, StringComparison.Ordinal));
        Assert.All(seen, s => Assert.True(s.Versions.Contains(ContractVersion.Latest)));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Every_sample_of_every_contract_version_is_read_and_dispatched(string versionText)
    {
        var version = ContractVersion.Parse(versionText);
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            recorder.RegisterAll(o);
        });

        foreach (var sample in Samples.All(version))
        {
            using var response = await app.PostAsync(sample.Body);
            // WebSocket frames are not webhooks: refused as unreadable, never dispatched.
            Assert.Equal(sample.Kind == PayloadKind.WebSocketFrame ? HttpStatusCode.BadRequest : HttpStatusCode.OK, response.StatusCode);
        }

        var expected = version.KnownIntegrationActions.Concat(version.KnownGeneralDiscriminators).ToList();
        if (version.KnowsGeneralDiscriminator(GeneralDiscriminators.CustomerAdded))
        {
            expected.Add(GeneralDiscriminators.CustomerUpdated);
        }
        Assert.Equal(expected.Order(), recorder.All.Select(s => s.Name).Order());
        Assert.All(recorder.All, s => Assert.True(s.Versions.Contains(version), $"{s.Name}: {s.Versions} does not contain {version}"));
        Assert.DoesNotContain(recorder.All, s => s.Data is UnknownWebhookData);
        var created = Assert.IsType<IntegrationCreatedData>(recorder.All.Single(s => s.Name == IntegrationActions.Created).Data);
        Assert.True(created.IsEnabled);
    }

    [Fact]
    public async Task Bad_missing_or_stale_signatures_and_wrong_tokens_are_401_and_run_no_handler()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.UrlToken = "t0k3n";
            recorder.RegisterAll(o);
        });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var otherSecret = WebhookSigner.NewSecret();

        var refused = new List<HttpResponseMessage>
        {
            await app.PostAsync(Enabled, query: "?Token=t0k3n", secrets: [otherSecret]),
            await app.PostAsync(Enabled, query: "?Token=t0k3n", timestamp: now - 330),
            await app.PostAsync(Enabled, query: "?Token=t0k3n", timestamp: now + 330), // a margin: the wall clock may tick between here and the check
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r => r.Headers.Remove("webhook-signature")),
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r => r.Headers.Remove("webhook-id")),
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r => r.Headers.Remove("webhook-timestamp")),
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r =>
            {
                r.Headers.Remove("webhook-timestamp");
                r.Headers.Add("webhook-timestamp", "not-a-number");
            }),
            // The signature covers the id: another id with the same signature fails.
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r =>
            {
                r.Headers.Remove("webhook-id");
                r.Headers.Add("webhook-id", "msg_other");
            }),
            // The signature covers the raw bytes: one byte more fails.
            await app.PostAsync(Enabled, query: "?Token=t0k3n", tamper: r => r.Content = new ByteArrayContent([.. Enabled, (byte)' '])
            {
                Headers = { ContentType = new("application/json") },
            }),
            await app.PostAsync(Enabled, query: "?Token=wrong"),
            await app.PostAsync(Enabled, query: "?Token=t0k3n0"),
            await app.PostAsync(Enabled),
        };

        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            Assert.Equal(401, (int)problem["status"]!);
            Assert.DoesNotContain(ReceiverApp.Secret, problem.ToJsonString(), StringComparison.Ordinal);
            response.Dispose();
        }
        Assert.Empty(recorder.All);

        using var accepted = await app.PostAsync(Enabled, query: "?Token=t0k3n", timestamp: now - 290);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Single(recorder.All);
        Assert.DoesNotContain(app.Log.Entries, e => e.Text.Contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_clock_comes_from_di_so_tolerance_follows_it()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1614265330));
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.TimestampTolerance = TimeSpan.FromSeconds(30);
            recorder.RegisterAll(o);
        }, time: time);

        using var inTime = await app.PostAsync(Enabled, timestamp: 1614265330 - 30);
        Assert.Equal(HttpStatusCode.OK, inTime.StatusCode);
        time.Advance(TimeSpan.FromSeconds(61));
        using var late = await app.PostAsync(Enabled, timestamp: 1614265330);
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
        Assert.Single(recorder.All);
    }

    [Fact]
    public async Task Any_of_several_secrets_and_any_of_several_signatures_is_accepted()
    {
        var recorder = new Recorder();
        var oldSecret = WebhookSigner.NewSecret();
        var newSecret = WebhookSigner.NewSecret();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(oldSecret);
            o.SigningSecrets.Add(newSecret);
            recorder.RegisterAll(o);
        });

        using var byOld = await app.PostAsync(Enabled, secrets: [oldSecret]);
        using var byNew = await app.PostAsync(Enabled, secrets: [newSecret]);
        using var byBoth = await app.PostAsync(Enabled, secrets: [WebhookSigner.NewSecret(), newSecret]);
        using var byNeither = await app.PostAsync(Enabled, secrets: [WebhookSigner.NewSecret(), WebhookSigner.NewSecret()]);

        Assert.Equal(HttpStatusCode.OK, byOld.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byNew.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byBoth.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byNeither.StatusCode);
        Assert.Equal(3, recorder.All.Count);
    }

    [Fact]
    public async Task A_duplicate_webhook_id_is_acknowledged_without_running_handlers_again()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            recorder.RegisterAll(o);
        });

        for (var i = 0; i < 3; i++)
        {
            using var response = await app.PostAsync(Enabled, id: "msg_same");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using var other = await app.PostAsync(Enabled, id: "msg_other");

        Assert.Equal(["msg_same", "msg_other"], recorder.All.Select(s => s.WebhookId));
    }

    [Fact]
    public async Task A_failing_handler_answers_500_and_the_retry_runs_it_again()
    {
        var calls = 0;
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.OnIntegrationEnabled((e, _) => Interlocked.Increment(ref calls) == 1
                ? throw new InvalidOperationException("database down")
                : Task.CompletedTask);
        });

        using var first = await app.PostAsync(Enabled, id: "msg_retry");
        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("database down", await first.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var retry = await app.PostAsync(Enabled, id: "msg_retry");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        using var again = await app.PostAsync(Enabled, id: "msg_retry");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        Assert.Equal(2, calls);
        Assert.Equal(1, app.Log.Count(3));
    }

    [Fact]
    public async Task Acknowledge_then_process_answers_202_runs_the_handler_and_a_full_queue_answers_503()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new List<string>();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.ProcessingMode = WebhookProcessingMode.AcknowledgeThenProcess;
            o.QueueCapacity = 1;
            o.QueueFullRetryAfter = TimeSpan.FromSeconds(7);
            o.OnIntegrationEnabled(async (e, ct) =>
            {
                started.TrySetResult();
                await release.Task.WaitAsync(ct);
                lock (handled)
                {
                    handled.Add(e.WebhookId);
                }
            });
        });

        using var first = await app.PostAsync(Enabled, id: "msg_1");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var second = await app.PostAsync(Enabled, id: "msg_2");
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        using var third = await app.PostAsync(Enabled, id: "msg_3");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), third.Headers.RetryAfter?.Delta);
        // A redelivery of a queued message waits its turn instead of running twice.
        using var duplicate = await app.PostAsync(Enabled, id: "msg_2");
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        release.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (handled.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }
        using var retried = await app.PostAsync(Enabled, id: "msg_3");
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (handled.Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }
        Assert.Equal(["msg_1", "msg_2", "msg_3"], handled);
        using var afterwards = await app.PostAsync(Enabled, id: "msg_2");
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }

    [Fact]
    public async Task Malformed_bodies_wrong_content_types_and_oversized_bodies_are_refused_with_problem_details()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.MaxBodySize = 64 * 1024;
            recorder.RegisterAll(o);
        });

        foreach (var body in new[] { "{\"Action\":", "[]", "{}", "{\"Action\":\"IntegrationCreated\",\"Data\":{}}", "not json", "" })
        {
            using var response = await app.PostAsync(Encoding.UTF8.GetBytes(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            Assert.False(string.IsNullOrEmpty((string?)problem["detail"]));
        }
        using var text = await app.PostAsync(Enabled, contentType: "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        using var form = await app.PostAsync(Enabled, contentType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        using var large = await app.PostAsync(Encoding.UTF8.GetBytes("{\"Action\":\"" + new string('x', 70_000) + "\"}"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        using var charset = await app.PostAsync(Enabled, contentType: "application/json; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, charset.StatusCode);
        Assert.Single(recorder.All);
    }

    [Fact]
    public async Task Unknown_actions_and_discriminators_go_to_the_fallback_and_are_acknowledged()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            recorder.RegisterAll(o);
        });
        await using var bare = await ReceiverApp.StartAsync(o => o.SigningSecrets.Add(ReceiverApp.Secret));
        var action = """{"Action":"IntegrationTeleported","Data":{"Where":"Mars"},"Extra":1}"""u8.ToArray();
        var general = """
            {"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Future":true,
             "Events":[{"Discriminator":"SpaceshipLanded","Value":{"Id":"bfee2c44-1f84-4326-a862-5289598f6e2d"}},
                       {"Discriminator":"CustomerAdded","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b","Name":"ignored"}}]}
            """u8.ToArray();

        foreach (var target in new[] { app, bare })
        {
            using var first = await target.PostAsync(action);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            using var second = await target.PostAsync(general);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        var seen = recorder.All;
        Assert.Equal(["IntegrationTeleported", "SpaceshipLanded", "CustomerAdded"], seen.Select(s => s.Name));
        var unknown = Assert.IsType<UnknownWebhookData>(seen[0].Data);
        Assert.Equal(PayloadKind.IntegrationWebhook, unknown.Kind);
        Assert.Equal("Mars", unknown.Raw.GetProperty("Where").GetString());
        Assert.Equal(PayloadKind.GeneralMessage, Assert.IsType<UnknownWebhookData>(seen[1].Data).Kind);
        Assert.IsType<GeneralEventData>(seen[2].Data);
    }

    [Fact]
    public async Task Without_a_secret_the_app_does_not_start_unless_signatures_are_waived_on_purpose()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(_ => { }));
        Assert.Contains("RequireSignature", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(o => o.SigningSecrets.Add("whsec_not base64!")));
        Assert.Throws<ArgumentException>(() => new ConnectorWebhookOptions().OnGeneralEvent("CustomerDeleted", (_, _) => Task.CompletedTask));

        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.RequireSignature = false;
            o.UrlToken = "only-the-token";
            recorder.RegisterAll(o);
        });
        using var unsigned = await app.PostAsync(Enabled, query: "?Token=only-the-token", tamper: r => r.Headers.Remove("webhook-signature"));
        Assert.Equal(HttpStatusCode.OK, unsigned.StatusCode);
        using var noToken = await app.PostAsync(Enabled);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Single(recorder.All);
    }

    [Fact]
    public async Task The_default_deduplication_store_is_bounded_and_forgets_the_least_recently_seen()
    {
        var store = new InMemoryWebhookDeduplicationStore(3);
        foreach (var id in new[] { "a", "b", "c" })
        {
            await store.MarkProcessedAsync(id, Ct);
        }
        Assert.True(await store.IsProcessedAsync("a", Ct));
        await store.MarkProcessedAsync("d", Ct);
        Assert.Equal(3, store.Count);
        Assert.True(await store.IsProcessedAsync("a", Ct));
        Assert.False(await store.IsProcessedAsync("b", Ct));
        Assert.True(await store.IsProcessedAsync("d", Ct));
    }
}
