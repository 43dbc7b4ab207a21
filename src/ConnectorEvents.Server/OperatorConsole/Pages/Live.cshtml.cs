using ConnectorEvents.Core.Realtime;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>This process's WebSocket connections and the events it takes in, live.</summary>
public sealed class LiveModel(ConsoleMetrics metrics, WebSocketHub webSockets) : ConsolePageModel
{
    public IReadOnlyList<ConsoleMetrics.Interval> Steps { get; private set; } = [];
    public int Connections { get; private set; }
    public long BufferedBytes { get; private set; }
    public int SlowClosed { get; private set; }

    public void OnGet() => Load();

    public PartialViewResult OnGetLive()
    {
        Load();
        return Partial("_Live", this);
    }

    private void Load()
    {
        Steps = metrics.Read();
        Connections = webSockets.ConnectionCount;
        BufferedBytes = webSockets.BufferedBytes;
        SlowClosed = webSockets.SlowConsumersClosed;
    }

    public IReadOnlyList<double?> PerSecond(Func<ConsoleMetrics.Interval, long> count) => ConsoleMetrics.PerSecond(Steps, count);
}
