using System.Net.Sockets;

namespace ConnectorEvents.Cli;

/// <summary>One line for a request that got no answer, e.g. "connection refused".</summary>
internal static class TransportFailure
{
    public static string Describe(HttpRequestException exception, string listener = "anything")
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => $"connection refused (is {listener} listening on that port?).",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found.",
                    SocketError.TimedOut => "connection timed out.",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable.",
                    _ => socket.Message.TrimEnd('.') + ".",
                };
            }
        }
        return exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host name not found.",
            HttpRequestError.SecureConnectionError => "TLS handshake failed.",
            HttpRequestError.ResponseEnded => "the connection closed before an answer.",
            _ => exception.Message.ReplaceLineEndings(" "),
        };
    }
}
