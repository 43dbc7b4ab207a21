using System.Text;
using ConnectorEvents.Contracts;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// What one write transaction changed, as the lines of its <c>NOTIFY</c> payloads: the sender's node id, then one item a
/// line. Items are de-duplicated; a rollback to a savepoint drops the items added after it.
/// </summary>
internal sealed class ChangeAnnouncements(string nodeId)
{
    public const string Channel = "connector_events";

    /// <summary>PostgreSQL refuses a payload of 8,000 bytes or more; this leaves room to spare.</summary>
    public const int MaxPayloadBytes = 7_800;

    private readonly List<string> _items = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Stack<int> _marks = new();

    public void Add(string item)
    {
        if (_seen.Add(item))
        {
            _items.Add(item);
        }
    }

    public void AddWebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        var item = $"w {enterpriseId} {Convert.ToBase64String(WebSocketFrameWriter.Write(new WebSocketFrame(events)))}";
        if (HeaderBytes + Encoding.UTF8.GetByteCount(item) <= MaxPayloadBytes)
        {
            Add(item);
            return;
        }
        if (events.Count == 1)
        {
            // One event too large for any notification: the other processes cannot be told, and failing the commit
            // for it would lose the write itself. Their WebSockets miss this one event.
            return;
        }
        var half = events.Count / 2;
        AddWebSocketEvents(enterpriseId, [.. events.Take(half)]);
        AddWebSocketEvents(enterpriseId, [.. events.Skip(half)]);
    }

    public void Mark() => _marks.Push(_items.Count);

    public void RollBackToMark()
    {
        var mark = _marks.Peek();
        for (var i = mark; i < _items.Count; i++)
        {
            _seen.Remove(_items[i]);
        }
        _items.RemoveRange(mark, _items.Count - mark);
    }

    public void ReleaseMark() => _marks.Pop();

    private int HeaderBytes => Encoding.UTF8.GetByteCount(nodeId) + 1;

    /// <summary>The items packed into as few payloads as fit under <see cref="MaxPayloadBytes"/>, in the order they were added.</summary>
    public IReadOnlyList<string> Payloads()
    {
        var payloads = new List<string>();
        var current = new StringBuilder();
        var bytes = 0;
        foreach (var item in _items)
        {
            var itemBytes = Encoding.UTF8.GetByteCount(item) + 1;
            if (current.Length > 0 && bytes + itemBytes > MaxPayloadBytes)
            {
                payloads.Add(current.ToString());
                current.Clear();
            }
            if (current.Length == 0)
            {
                current.Append(nodeId);
                bytes = HeaderBytes - 1;
            }
            current.Append('\n').Append(item);
            bytes += itemBytes;
        }
        if (current.Length > 0)
        {
            payloads.Add(current.ToString());
        }
        return payloads;
    }
}
