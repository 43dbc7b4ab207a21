using System.Net.Sockets;
using System.Text;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>One HTTP/1.1 answer as read off the wire.</summary>
public sealed record RawAnswer(int Status, string ContentType, string Body, long BytesSentBeforeAnswer);

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient will not send: WebSocket upgrade headers on a refused request, and a
/// chunked body that goes on for far longer than the server should read.
/// </summary>
public static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers, no blank line) and <paramref name="body"/>, with a
    /// Content-Length or chunked, and reads one answer. A server may answer and close before the body is all sent.
    /// </summary>
    public static async Task<RawAnswer> SendAsync(Uri baseUri, string head, byte[]? body = null, bool chunked = false,
        CancellationToken ct = default)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port, ct).ConfigureAwait(false);
        var stream = tcp.GetStream();
        var request = new MemoryStream();
        var framing = body is null ? "" : chunked ? "\r\nTransfer-Encoding: chunked" : $"\r\nContent-Length: {body.Length}";
        request.Write(Encoding.Latin1.GetBytes(head + "\r\nHost: " + baseUri.Authority + framing + "\r\n\r\n"));
        if (body is not null && chunked)
        {
            request.Write(Encoding.ASCII.GetBytes($"{body.Length:X}\r\n"));
            request.Write(body);
            request.Write("\r\n0\r\n\r\n"u8);
        }
        else if (body is not null)
        {
            request.Write(body);
        }
        var answer = ReadAnswerAsync(stream, 0, ct);
        try
        {
            await stream.WriteAsync(request.ToArray(), ct).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The server answered early and closed: the answer is what counts.
        }
        return await answer.ConfigureAwait(false);
    }

    /// <summary>
    /// Posts a chunked body of up to <paramref name="plannedBytes"/>, 64 KiB at a time, and stops writing as soon as an answer
    /// arrives. The answer records how much had been sent by then: a server that buffers the whole body answers late.
    /// </summary>
    public static async Task<RawAnswer> StreamAsync(Uri baseUri, string head, long plannedBytes, CancellationToken ct = default)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port, ct).ConfigureAwait(false);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head + "\r\nHost: " + baseUri.Authority + "\r\nTransfer-Encoding: chunked\r\n\r\n"), ct)
            .ConfigureAwait(false);
        long sent = 0;
        var answer = ReadAnswerAsync(stream, 0, ct);
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)'a');
        var chunkHead = Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n");
        var crlf = "\r\n"u8.ToArray();
        // A JSON start, so the server has no early reason to refuse other than the size.
        var opening = Encoding.ASCII.GetBytes("{\"Name\":\"");
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{opening.Length:X}\r\n"), ct).ConfigureAwait(false);
        await stream.WriteAsync(opening, ct).ConfigureAwait(false);
        await stream.WriteAsync(crlf, ct).ConfigureAwait(false);
        try
        {
            while (!answer.IsCompleted && sent < plannedBytes)
            {
                await stream.WriteAsync(chunkHead, ct).ConfigureAwait(false);
                await stream.WriteAsync(chunk, ct).ConfigureAwait(false);
                await stream.WriteAsync(crlf, ct).ConfigureAwait(false);
                Interlocked.Add(ref sent, chunk.Length);
            }
        }
        catch (IOException)
        {
            // The server closed the connection after answering: expected.
        }
        var result = await answer.ConfigureAwait(false);
        return result with { BytesSentBeforeAnswer = Interlocked.Read(ref sent) };
    }

    private static async Task<RawAnswer> ReadAnswerAsync(Stream stream, long sent, CancellationToken ct)
    {
        var buffer = new List<byte>();
        var one = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(one, ct).ConfigureAwait(false);
            if (read == 0)
            {
                return new RawAnswer(0, "", "(connection closed before an answer)", sent);
            }
            buffer.AddRange(one.AsSpan(0, read));
        }
        var head = Encoding.Latin1.GetString(buffer.GetRange(0, headEnd).ToArray()).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Skip(1).Select(h => h.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var rest = buffer.GetRange(headEnd + 4, buffer.Count - headEnd - 4);
        async Task<bool> More()
        {
            var read = await stream.ReadAsync(one, ct).ConfigureAwait(false);
            rest.AddRange(one.AsSpan(0, read));
            return read > 0;
        }
        byte[] body;
        if (headers.TryGetValue("Content-Length", out var length))
        {
            var n = int.Parse(length, System.Globalization.CultureInfo.InvariantCulture);
            while (rest.Count < n && await More().ConfigureAwait(false))
            {
            }
            body = rest.Take(n).ToArray();
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new List<byte>();
            var at = 0;
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(rest, "\r\n"u8, at)) < 0 && await More().ConfigureAwait(false))
                {
                }
                if (lineEnd < 0)
                {
                    break;
                }
                var size = Convert.ToInt32(Encoding.ASCII.GetString(rest.GetRange(at, lineEnd - at).ToArray()).Split(';')[0], 16);
                if (size == 0)
                {
                    break;
                }
                while (rest.Count < lineEnd + 2 + size + 2 && await More().ConfigureAwait(false))
                {
                }
                decoded.AddRange(rest.GetRange(lineEnd + 2, Math.Min(size, rest.Count - lineEnd - 2)));
                at = lineEnd + 2 + size + 2;
            }
            body = decoded.ToArray();
        }
        else if (status is 101 or 204 or 304)
        {
            body = [];
        }
        else
        {
            while (await More().ConfigureAwait(false))
            {
            }
            body = rest.ToArray();
        }
        return new RawAnswer(status, headers.GetValueOrDefault("Content-Type", ""), Encoding.UTF8.GetString(body), sent);
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> pattern, int from = 0)
    {
        for (var i = from; i <= data.Count - pattern.Length; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++)
            {
                match = data[i + j] == pattern[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }
}
