using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

/// <summary>What an attempt records of the URL it went to: never a password, never the query (the receiver's token).</summary>
public sealed class AttemptUrlRedactionTests
{
    [Theory]
    [InlineData("http://hooks.example.com/in?Token=abc", "http://hooks.example.com/in?…")]
    [InlineData("http://user:pw@hooks.example.com:8080/in?Token=abc", "http://hooks.example.com:8080/in?…")]
    [InlineData("https://user@hooks.example.com/in", "https://hooks.example.com/in")]
    [InlineData("https://hooks.example.com:443/a/b", "https://hooks.example.com/a/b")]
    [InlineData("http://user:pw@[2001:db8::1]:8080/in?x=1#frag", "http://[2001:db8::1]:8080/in?…")]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000/")]
    public void The_recorded_url_keeps_scheme_host_port_and_path_only(string url, string recorded)
    {
        Assert.Equal(recorded, WebhookSender.Redact(new Uri(url)));
    }
}
