using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Npgsql;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// <c>/healthz/ready</c> while writes fail: 503 with the reason in words that name no path, host or credential, and 200
/// again once a write succeeds, without any traffic (the writer's probe). Each fault on the storage it concerns, whatever
/// CONNECTOR_EVENTS_TEST_STORAGE says.
/// </summary>
public sealed class ReadinessFaultTests
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_full_data_folder_makes_readiness_503_with_disk_full_and_freeing_space_makes_it_200_without_traffic()
    {
        using var folder = TmpfsFolder.Mount(megabytes: 24);
        await using var sink = await WebhookSink.StartAsync();
        var probePort = ServerProcess.FreePort();
        var settings = HealthProbePortTests.ProbePort(probePort);
        settings["Storage:Provider"] = "Sqlite";
        await using var server = await RunningServer.StartAsync(settings, dataDirectory: Path.Combine(folder.Path, "data"));
        using var probes = HealthProbePortTests.Probes(probePort);
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Full Hotel" });
        // A receiver, so the events are kept in the log, formed into messages and delivered: all of it writes.
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Full App", GeneralWebhookUrl = sink.Url("/general") });
        await server.CreateIntegrationAsync(Guid.Parse((string)enterprise["Id"]!), Guid.Parse((string)client["Id"]!));
        Assert.Equal(HttpStatusCode.OK, (await ReadinessAsync(server)).Status);

        folder.Fill();
        // Large batches until one is refused: the log reuses pages it already has, so small writes may still fit.
        var refused = false;
        for (var round = 0; round < 20 && !refused; round++)
        {
            using var response = await server.Api.PostAsJsonAsync($"/api/v1/enterprises/{enterprise["Id"]}/events",
                new { Events = Enumerable.Range(0, 1000).Select(_ => new { Discriminator = "ServiceOrderUpdated", Value = new { Id = Guid.NewGuid() } }) },
                Delivery.Ct);
            refused = response.StatusCode == HttpStatusCode.ServiceUnavailable;
        }
        Assert.True(refused, "no write was refused on the full disk");
        var (status, body) = await ReadinessAsync(server);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", (string?)body["Status"]);
        Assert.Contains("disk full", (string?)body["Reason"], StringComparison.Ordinal);
        Assert.DoesNotContain(folder.Path, body.ToJsonString(), StringComparison.Ordinal);
        // The probe port (Health:Port) gives the same verdict.
        using (var probe = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, probe.StatusCode);
            var probeBody = JsonNode.Parse(await probe.Content.ReadAsStringAsync(Delivery.Ct))!;
            Assert.Equal("Unhealthy", (string?)probeBody["Status"]);
            Assert.Contains("disk full", (string?)probeBody["Reason"], StringComparison.Ordinal);
        }

        folder.Unfill();
        await WaitUntilReadyAsync(server);
        using var recovered = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task An_unreachable_PostgreSQL_makes_readiness_503_with_database_unreachable_and_200_once_it_is_back()
    {
        await using var proxied = await ProxiedPostgres.StartAsync();
        var (forwarder, viaForwarder, server) = (proxied.Proxy, proxied.Connection, proxied.Server);
        Assert.Equal(HttpStatusCode.OK, (await ReadinessAsync(server)).Status);

        forwarder.Stop();
        try
        {
            // A write meets the fault (lease renewals write too, every few seconds, without it).
            using (await server.Api.PostAsJsonAsync("/api/v1/enterprises", new { Name = "Away Hotel" }, Delivery.Ct))
            {
            }
            await Delivery.WaitUntilAsync(() => ReadinessAsync(server).GetAwaiter().GetResult().Body["Reason"]?.ToString()
                .Contains("database unreachable", StringComparison.Ordinal) == true, "readiness said the database is unreachable");
            var (status, body) = await ReadinessAsync(server);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("database unreachable", (string?)body["Reason"], StringComparison.Ordinal);
            AssertNamesNoConnection(body, viaForwarder);
        }
        finally
        {
            forwarder.Start();
        }
        await WaitUntilReadyAsync(server);
        await server.PostAsync("/api/v1/enterprises", new { Name = "Back Hotel" }, expectedStatus: 201);
    }

    [Fact]
    public async Task A_read_only_PostgreSQL_makes_readiness_503_with_read_only_and_200_once_it_takes_writes_again()
    {
        var connectionString = PostgresServer.CreateDatabase();
        var database = new NpgsqlConnectionStringBuilder(connectionString);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
        });
        Assert.Equal(HttpStatusCode.OK, (await ReadinessAsync(server)).Status);

        // As after a fail-over onto a standby: every new session of the database is read-only, the old ones are gone.
        await AdminAsync(database, $"ALTER DATABASE {database.Database} SET default_transaction_read_only = on");
        await AdminAsync(database, TerminateSessions(database.Database!));
        try
        {
            await Delivery.WaitUntilAsync(() =>
            {
                using var response = server.Api.PostAsJsonAsync("/api/v1/enterprises", new { Name = "Standby Hotel" }, Delivery.Ct).GetAwaiter().GetResult();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable
                    && ReadinessAsync(server).GetAwaiter().GetResult().Body["Reason"]?.ToString().Contains("read-only", StringComparison.Ordinal) == true;
            }, "a write was refused and readiness said read-only");
            var (status, body) = await ReadinessAsync(server);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            AssertNamesNoConnection(body, database);
        }
        finally
        {
            await AdminAsync(database, $"ALTER DATABASE {database.Database} RESET default_transaction_read_only");
            await AdminAsync(database, TerminateSessions(database.Database!));
        }
        await WaitUntilReadyAsync(server);
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadinessAsync(RunningServer server)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync(Delivery.Ct))!);
    }

    private static async Task WaitUntilReadyAsync(RunningServer server)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var (status, body) = await ReadinessAsync(server);
            if (status == HttpStatusCode.OK)
            {
                Assert.Equal("Healthy", (string?)body["Status"]);
                return;
            }
            Assert.True(clock.Elapsed < RecoveryBound, $"readiness still answers {(int)status} {body.ToJsonString()} after {clock.Elapsed}");
            await Task.Delay(100, Delivery.Ct);
        }
    }

    private static void AssertNamesNoConnection(JsonObject body, NpgsqlConnectionStringBuilder connection)
    {
        var text = body.ToJsonString();
        Assert.DoesNotContain($":{connection.Port}", text, StringComparison.Ordinal);
        Assert.DoesNotContain(connection.Database!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("Host=", text, StringComparison.OrdinalIgnoreCase);
    }

    private static string TerminateSessions(string database) =>
        $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()";

    /// <summary>Runs a statement from the cluster's own database, not the one under test.</summary>
    private static async Task AdminAsync(NpgsqlConnectionStringBuilder database, string sql)
    {
        var admin = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(Delivery.Ct);
#pragma warning disable CA2100 // the names are made by the test cluster, from GUIDs
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(Delivery.Ct);
    }
}
