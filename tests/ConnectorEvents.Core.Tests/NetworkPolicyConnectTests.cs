using System.Net;
using System.Net.Sockets;
using System.Text;
using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

/// <summary>The guard as deliveries meet it: a real socket listener behind the delivery handler.</summary>
public sealed class NetworkPolicyConnectTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public NetworkPolicyConnectTests() => _listener.Start();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose() => _listener.Stop();

    private static HttpClient ClientWith(DeliveryOptions options) =>
        new(WebhookSender.CreateHandler(new NetworkPolicy(options)), disposeHandler: true);

    private static T? FindInChain<T>(Exception ex) where T : Exception
    {
        for (Exception? current = ex; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }
        return null;
    }

    [Fact]
    public async Task The_default_policy_refuses_to_connect_to_a_loopback_listener()
    {
        using var client = ClientWith(new DeliveryOptions());

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.GetAsync(new Uri($"http://127.0.0.1:{Port}/hook"), TestContext.Current.CancellationToken));

        var blocked = FindInChain<BlockedAddressException>(error);
        Assert.NotNull(blocked);
        Assert.Contains("127.0.0.1", blocked.Message, StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public async Task The_default_policy_refuses_localhost_by_its_resolved_addresses()
    {
        using var client = ClientWith(new DeliveryOptions());

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.GetAsync(new Uri($"http://localhost:{Port}/hook"), TestContext.Current.CancellationToken));

        Assert.NotNull(FindInChain<BlockedAddressException>(error));
    }

    [Fact]
    public async Task An_allowed_loopback_range_connects_and_the_request_goes_through()
    {
        using var client = ClientWith(new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8"] });
        var cancellation = TestContext.Current.CancellationToken;

        var request = client.PostAsync(new Uri($"http://127.0.0.1:{Port}/hook"), new StringContent("{}"), cancellation);
        using (var accepted = await _listener.AcceptTcpClientAsync(cancellation))
        {
            var stream = accepted.GetStream();
            await ReadRequestAsync(stream, cancellation);
            await stream.WriteAsync("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), cancellation);
        }
        using var response = await request;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task A_host_that_does_not_resolve_is_reported_as_such()
    {
        using var client = ClientWith(new DeliveryOptions());

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.GetAsync(new Uri("http://nonexistent.invalid/hook"), TestContext.Current.CancellationToken));

        var unresolved = FindInChain<HostNotResolvedException>(error);
        Assert.NotNull(unresolved);
        Assert.Contains("nonexistent.invalid", unresolved.Message, StringComparison.Ordinal);
    }

    /// <summary>Reads up to the end of the request (headers, then the Content-Length body).</summary>
    private static async Task ReadRequestAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellation);
            if (read == 0)
            {
                return;
            }
            received.AddRange(buffer.AsSpan(0, read));
            var text = Encoding.ASCII.GetString(received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                continue;
            }
            var lengthLine = text[..end].Split("\r\n")
                .FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (received.Count >= end + 4 + length)
            {
                return;
            }
        }
    }
}
