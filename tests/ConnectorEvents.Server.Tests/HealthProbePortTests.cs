using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ConnectorEvents.Server.Tests.Abuse;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// <c>Health:Port</c>: the probes on a port of their own, answered by a thread of their own. Same verdict and body as the main
/// port, HTTP that curl, kubelet and HttpClient read, and no client that connects and says nothing can hold it up.
/// </summary>
public sealed class HealthProbePortTests
{
    [Fact]
    public async Task The_probe_port_answers_readiness_with_the_main_ports_body_and_liveness()
    {
        var port = ServerProcess.FreePort();
        await using var server = await RunningServer.StartAsync(ProbePort(port));
        using var probes = Probes(port);

        using var ready = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync(Delivery.Ct))!.AsObject();
        using var main = new HttpClient { BaseAddress = server.BaseUri };
        var mainBody = JsonNode.Parse(await main.GetStringAsync("/healthz/ready", Delivery.Ct))!.AsObject();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("application/json; charset=utf-8", ready.Content.Headers.ContentType?.ToString());
        Assert.True(ready.Headers.ConnectionClose);
        Assert.True(ready.Headers.CacheControl?.NoStore);
        Assert.Equal("Healthy", (string?)body["Status"]);
        Assert.Equal(mainBody.Select(p => p.Key), body.Select(p => p.Key));
        Assert.Equal((string?)mainBody["Storage"]!["Provider"], (string?)body["Storage"]!["Provider"]);
        Assert.Equal(64, (int)body["Leases"]!["Held"]!);

        using var live = await probes.GetAsync(new Uri("/healthz/live?probe=1", UriKind.Relative), Delivery.Ct);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync(Delivery.Ct));

        using var head = await probes.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz/ready"), Delivery.Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Delivery.Ct));
    }

    [Fact]
    public async Task Storage_is_asked_every_second_so_a_probe_after_a_long_quiet_finds_a_fresh_answer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var port = ServerProcess.FreePort();
        await using var server = await RunningServer.StartAsync(ProbePort(port), time);
        using var probes = Probes(port);
        using (var first = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // Ten quiet seconds: past the 5 s after which an unrefreshed answer no longer counts. The probe thread asks storage
        // again within its next turn (every 100 ms), without a probe to prompt it.
        time.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(2), Delivery.Ct); // real time for the thread's turns; the verdict is the fake clock's
        using var probe = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
    }

    [Fact]
    public async Task The_probe_port_answers_other_paths_methods_and_malformed_requests_with_problem_details()
    {
        var port = ServerProcess.FreePort();
        await using var server = await RunningServer.StartAsync(ProbePort(port));
        using var probes = Probes(port);
        var probePort = new Uri($"http://127.0.0.1:{port}/");

        using var other = await probes.GetAsync(new Uri("/api/v1/enterprises", UriKind.Relative), Delivery.Ct);
        await AssertProblemAsync(other, HttpStatusCode.NotFound);

        using var post = await probes.PostAsync(new Uri("/healthz/ready", UriKind.Relative), new StringContent("{}"), Delivery.Ct);
        await AssertProblemAsync(post, HttpStatusCode.MethodNotAllowed);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow);

        var garbage = await RawHttp.SendAsync(probePort, "HELLO", ct: Delivery.Ct);
        Assert.Equal(400, garbage.Status);
        Assert.Equal("application/problem+json", garbage.ContentType);
        Assert.Equal(400, (int)JsonNode.Parse(garbage.Body)!["status"]!);

        var huge = await RawHttp.SendAsync(probePort, "GET /healthz/ready HTTP/1.1\r\nX-Padding: " + new string('p', 9000), ct: Delivery.Ct);
        Assert.Equal(431, huge.Status);
        Assert.Equal("application/problem+json", huge.ContentType);

        // After all of that, it still answers.
        using var ready = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Clients_that_connect_and_say_nothing_neither_hold_up_a_probe_nor_stay_connected()
    {
        var port = ServerProcess.FreePort();
        await using var server = await RunningServer.StartAsync(ProbePort(port));
        using var probes = Probes(port);
        var silent = new List<Socket>();
        try
        {
            // More than the port holds at once: the oldest are let go to make room.
            for (var i = 0; i < 80; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port, Delivery.Ct);
                silent.Add(socket);
            }
            using var ready = await probes.GetAsync(new Uri("/healthz/ready", UriKind.Relative), Delivery.Ct);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

            // Every silent connection is closed by the server within its 2 s for a request (a read returns 0, or a reset).
            var buffer = new byte[16];
            foreach (var socket in silent)
            {
                socket.ReceiveTimeout = 10_000;
                int read;
                try
                {
                    read = socket.Receive(buffer);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    read = 0;
                }
                Assert.Equal(0, read);
            }
        }
        finally
        {
            foreach (var socket in silent)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_probe_port_that_cannot_be_listened_on_stops_the_start_naming_the_setting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunningServer.StartAsync(ProbePort(port)));
        Assert.Contains($"Health:Port {port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddressAlreadyInUse", error.Message, StringComparison.Ordinal);

        var invalid = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Health:Port"] = "70000",
            ["Health:Address"] = "localhost",
        }));
        Assert.Contains("Health:Port", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("Health:Address", invalid.Message, StringComparison.Ordinal);
    }

    internal static Dictionary<string, string?> ProbePort(int port) => new()
    {
        ["Health:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Health:Address"] = "127.0.0.1",
    };

    internal static HttpClient Probes(int port) => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
        Timeout = TimeSpan.FromSeconds(10),
    };

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Delivery.Ct))!;
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)problem["detail"]));
    }
}
