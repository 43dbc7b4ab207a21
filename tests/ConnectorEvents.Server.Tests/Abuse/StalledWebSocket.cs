using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// A WebSocket client that upgrades and then never reads: a bare socket whose receive buffer is made tiny before it
/// connects (so the TCP window stays small), which reads the upgrade answer and nothing after it. What the server sends
/// piles up on the server's side.
/// </summary>
internal sealed class StalledWebSocket : IDisposable
{
    private readonly Socket _socket;

    private StalledWebSocket(Socket socket, int status)
    {
        _socket = socket;
        Status = status;
    }

    /// <summary>The status of the upgrade answer: 101 when upgraded, else the refusal.</summary>
    public int Status { get; }

    /// <summary>The head of the answer (status line and headers), for a refusal to be checked.</summary>
    public string Head { get; private init; } = "";

    /// <summary>The body of a refusal (by its Content-Length); empty once upgraded.</summary>
    public string Body { get; private init; } = "";

    /// <summary>A header of the answer, or null.</summary>
    public string? Header(string name) => Head.Split("\r\n").Skip(1).Select(h => h.Split(':', 2))
        .Where(p => p.Length == 2 && p[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
        .Select(p => p[1].Trim()).FirstOrDefault();

    public static async Task<StalledWebSocket> ConnectAsync(Uri baseUri, string cookie, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            // Before connecting, so the window the client announces is small from the start; Linux's floor is ~2 KiB.
            ReceiveBufferSize = 1024,
        };
        try
        {
            await socket.ConnectAsync(baseUri.Host, baseUri.Port, ct).ConfigureAwait(false);
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            var request = $"GET /ws/connector HTTP/1.1\r\nHost: {baseUri.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nCookie: {cookie}\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, ct).ConfigureAwait(false);
            // One byte at a time up to the blank line, so nothing after the head is taken off the wire.
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await socket.ReceiveAsync(one, SocketFlags.None, ct).ConfigureAwait(false) == 0)
                {
                    break;
                }
                head.Append((char)one[0]);
            }
            var text = head.ToString();
            var parts = text.Split(' ', 3);
            var status = parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var answer = new StalledWebSocket(socket, status) { Head = text };
            if (status == 101)
            {
                return answer;
            }
            // A refusal's body, chunked: read up to the last chunk, then join the chunks.
            var raw = new List<byte>();
            while (!Encoding.ASCII.GetString(raw.ToArray()).EndsWith("0\r\n\r\n", StringComparison.Ordinal)
                && await socket.ReceiveAsync(one, SocketFlags.None, ct).ConfigureAwait(false) == 1)
            {
                raw.Add(one[0]);
            }
            var body = new StringBuilder();
            var rest = Encoding.UTF8.GetString(raw.ToArray());
            while (rest.IndexOf("\r\n", StringComparison.Ordinal) is var end and > 0
                && int.Parse(rest[..end], NumberStyles.HexNumber, CultureInfo.InvariantCulture) is var size and > 0)
            {
                body.Append(rest.AsSpan(end + 2, size));
                rest = rest[(end + 2 + size + 2)..];
            }
            return new StalledWebSocket(socket, status) { Head = text, Body = body.ToString() };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _socket.Dispose();
}
