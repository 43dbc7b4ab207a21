using System.Text;
using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

/// <summary>Which answers say the receiver closes the connection after them (the end-to-end behaviour is in ReceiverFaultTests).</summary>
public sealed class DeliveryConnectionTests
{
    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", true)]
    [InlineData("HTTP/1.0 204 No Content\r\nServer: BaseHTTP/0.6 Python/3.11\r\nDate: x\r\n\r\n", true)]
    [InlineData("HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\n\r\n", true)]     // a parameter, not the connection option
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n", true)]            // the head not all here: closing, the default
    [InlineData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\n\r\n", false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok\r\nConnection: keep-alive", true)] // body bytes are not fields
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false)]       // the handler closes after this itself
    [InlineData("HTTP/1.", false)]                                            // too short to tell: the stale retry covers it
    public void An_http_1_0_answer_without_keep_alive_says_the_receiver_closes(string answerStart, bool closes)
    {
        Assert.Equal(closes, DeliveryConnection.WillClose(Encoding.ASCII.GetBytes(answerStart)));
    }
}
