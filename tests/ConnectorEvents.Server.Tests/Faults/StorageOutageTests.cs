using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Logging;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// Reads while PostgreSQL is out of reach (a loopback proxy in front of it, stopped): each answers 503 problem details with
/// <c>Retry-After</c>, never a 500, naming neither host nor credential, and the outage costs the log a line per 10 s, not a
/// stack trace per request.
/// </summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task Reads_on_an_unreachable_PostgreSQL_answer_503_with_Retry_After_and_log_a_bounded_number_of_lines()
    {
        // A password the server is given (the test database trusts loopback and ignores it), to look for where it must not be.
        const string Password = "outage-password-never-shown";
        var log = new CapturedLog();
        await using var proxied = await ProxiedPostgres.StartAsync(c => c.Password = Password, configure: b => b.Logging.AddProvider(log));
        var (forwarder, viaForwarder, server) = (proxied.Proxy, proxied.Connection, proxied.Server);
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Outage Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Outage App" });
        string[] reads =
        [
            "/api/v1/enterprises",
            $"/api/v1/enterprises/{enterprise["Id"]}",
            "/api/v1/clients",
            $"/api/v1/clients/{client["Id"]}",
            $"/api/v1/clients/{client["Id"]}/health",
            "/api/v1/integrations",
            "/api/v1/api-keys",
        ];
        var before = log.Count;

        forwarder.Stop();
        try
        {
            for (var round = 0; round < 20; round++)
            {
                foreach (var path in reads)
                {
                    using var response = await server.Api.GetAsync(new Uri(path, UriKind.Relative), Delivery.Ct);
                    var body = await response.Content.ReadAsStringAsync(Delivery.Ct);
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{path} answered {(int)response.StatusCode}: {body}");
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.NotNull(response.Headers.RetryAfter);
                    var problem = JsonNode.Parse(body)!;
                    Assert.Equal(503, (int)problem["status"]!);
                    Assert.Contains("database unreachable", (string?)problem["detail"], StringComparison.Ordinal);
                    Assert.DoesNotContain(Password, body, StringComparison.Ordinal);
                    Assert.DoesNotContain(viaForwarder.Host!, body, StringComparison.Ordinal);
                }
            }
            // And commands: each refused with 503 as not applied.
            for (var command = 0; command < 30; command++)
            {
                using var response = await server.Api.PostAsJsonAsync("/api/v1/enterprises", new { Name = $"Refused {command}" }, Delivery.Ct);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }
        finally
        {
            forwarder.Start();
        }

        // The writer: the first failed commit with its exception, then at most a summary line per 10 s.
        var writer = log.Since(before).Where(e => e.Category.EndsWith("GroupCommitWriter", StringComparison.Ordinal) && e.Level >= LogLevel.Error).ToList();
        Assert.InRange(writer.Count(e => e.Exception is not null), 1, 1);
        Assert.InRange(writer.Count, 1, 3);

        // 140 failed reads within a few seconds: one line for the first, maybe another when 10 s passed; no error with a trace.
        var outage = log.Since(before).Where(e => e.Category.EndsWith("ProblemExceptionHandler", StringComparison.Ordinal)).ToList();
        Assert.InRange(outage.Count(e => e.EventId.Id == 2002), 1, 2);
        Assert.DoesNotContain(outage, e => e.Level >= LogLevel.Error || e.Exception is not null);
        Assert.All(outage, e => Assert.DoesNotContain(Password, e.Message, StringComparison.Ordinal));

        await Delivery.WaitUntilAsync(() =>
        {
            using var response = server.Api.GetAsync(new Uri("/api/v1/enterprises", UriKind.Relative), Delivery.Ct).GetAwaiter().GetResult();
            return response.StatusCode == HttpStatusCode.OK;
        }, "reads answered again once the database was back");
    }

    [Theory]
    [InlineData("/api/v1/enterprises", "Enterprises")]
    [InlineData("/api/v1/clients", "Clients")]
    public async Task A_command_right_after_the_databases_connections_were_cut_is_applied_on_a_fresh_connection(string route, string items)
    {
        await using var proxied = await ProxiedPostgres.StartAsync();
        var (forwarder, server) = (proxied.Proxy, proxied.Server);
        await server.PostAsync(route, new { Name = "Before the cut" }, expectedStatus: 201);

        // Every open connection cut (a proxy restarted, a network blip), the database itself fine: the writer's connection
        // still says Open. The next command fails before its COMMIT was sent, so nothing of it was applied: it runs again.
        forwarder.Stop();
        forwarder.Start();
        await server.PostAsync(route, new { Name = "After the cut" }, expectedStatus: 201);

        using var list = await server.Api.GetAsync(new Uri(route, UriKind.Relative), Delivery.Ct);
        var names = JsonNode.Parse(await list.Content.ReadAsStringAsync(Delivery.Ct))![items]!.AsArray().Select(n => (string?)n!["Name"]).ToList();
        Assert.Contains("Before the cut", names);
        Assert.Single(names, "After the cut");
    }

    [Fact]
    public async Task A_start_while_PostgreSQL_is_out_of_reach_waits_for_it_answering_503_and_is_ready_once_it_answers()
    {
        var log = new CapturedLog();
        // The database "starts after" the server, as under an orchestrator.
        await using var proxied = await ProxiedPostgres.StartAsync(c => c.Timeout = 3, proxyStopped: true, configure: b => b.Logging.AddProvider(log));
        var (forwarder, server) = (proxied.Proxy, proxied.Server);
        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };

        using (var ready = await anonymous.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var reason = (string?)JsonNode.Parse(await ready.Content.ReadAsStringAsync(Delivery.Ct))!["Reason"];
            Assert.Contains("Starting: waiting for storage, database unreachable", reason, StringComparison.Ordinal);
        }
        using (var api = await server.Api.GetAsync(new Uri("/api/v1/enterprises", UriKind.Relative), Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
            Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(api.Headers.RetryAfter);
        }
        Assert.Single(log.Entries, e => e.EventId.Id == 2102);
        // Two seconds of waiting (the change feed tries at 0.1, 0.3, 0.7 and 1.5 s): one stack trace in the log, not one per try.
        await Task.Delay(TimeSpan.FromSeconds(2), Delivery.Ct);
        Assert.InRange(log.Entries.Count(e => e.Exception is not null), 1, 1);

        forwarder.Start();
        await Delivery.WaitUntilAsync(() =>
        {
            using var ready = anonymous.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct).GetAwaiter().GetResult();
            return ready.StatusCode == HttpStatusCode.OK;
        }, "readiness said 200 once the database answered");
        Assert.Single(log.Entries, e => e.EventId.Id == 2103);

        // Started for real: commands are applied and delivered.
        await using var sink = await WebhookSink.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/late?Token=t"));
        await server.CreateIntegrationAsync(enterpriseId, clientId);
        await Delivery.WaitUntilAsync(() => sink.Received.Count >= 1, "the webhook of the integration created after the wait was delivered");
    }

    [Fact]
    public async Task A_frozen_PostgreSQL_makes_commands_and_reads_answer_503_instead_of_hanging()
    {
        await using var proxied = await ProxiedPostgres.StartAsync(settings: new() { ["Storage:CommandTimeout"] = "00:00:02" });
        var (forwarder, server) = (proxied.Proxy, proxied.Server);
        await server.PostAsync("/api/v1/enterprises", new { Name = "Before the freeze" }, expectedStatus: 201);
        // The client gives up after 30 s: a server that waited on the database as long as it liked (45-90 s before) fails here.
        using var api = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);

        forwarder.Freeze();
        try
        {
            // Five commands at once: the first hangs in the writer until its time-out, the others wait behind it in the queue.
            var commands = Enumerable.Range(0, 5).Select(i => api.PostAsJsonAsync("/api/v1/enterprises", new { Name = $"Frozen {i}" }, Delivery.Ct)).ToArray();
            var read = api.GetAsync(new Uri("/api/v1/clients", UriKind.Relative), Delivery.Ct);
            foreach (var response in await Task.WhenAll([.. commands, read]))
            {
                using (response)
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Assert.NotNull(response.Headers.RetryAfter);
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }
        finally
        {
            forwarder.Thaw();
        }

        await Delivery.WaitUntilAsync(() =>
        {
            using var response = api.PostAsJsonAsync("/api/v1/enterprises", new { Name = "After the thaw" }, Delivery.Ct).GetAwaiter().GetResult();
            return response.StatusCode == HttpStatusCode.Created;
        }, "commands were applied again once the database answered");
    }
}
