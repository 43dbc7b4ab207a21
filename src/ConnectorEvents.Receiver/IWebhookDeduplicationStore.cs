namespace ConnectorEvents.Receiver;

/// <summary>
/// Remembers which <c>webhook-id</c>s were processed, so a redelivery is acknowledged without running handlers again.
/// The default keeps the last <see cref="ConnectorWebhookOptions.DeduplicationCapacity"/> ids in memory; register your own
/// (e.g. backed by a database) for several instances or restarts.
/// </summary>
public interface IWebhookDeduplicationStore
{
    /// <summary>Whether handlers already succeeded for <paramref name="webhookId"/>.</summary>
    ValueTask<bool> IsProcessedAsync(string webhookId, CancellationToken cancellationToken);

    /// <summary>Called once the handlers of <paramref name="webhookId"/> succeeded.</summary>
    ValueTask MarkProcessedAsync(string webhookId, CancellationToken cancellationToken);
}

/// <summary>Bounded, least-recently-used set of processed ids.</summary>
internal sealed class InMemoryWebhookDeduplicationStore : IWebhookDeduplicationStore
{
    private readonly int _capacity;
    private readonly Dictionary<string, LinkedListNode<string>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _order = new();
    private readonly Lock _gate = new();

    public InMemoryWebhookDeduplicationStore(int capacity) => _capacity = capacity;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _index.Count;
            }
        }
    }

    public ValueTask<bool> IsProcessedAsync(string webhookId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_index.TryGetValue(webhookId, out var node))
            {
                return ValueTask.FromResult(false);
            }
            _order.Remove(node);
            _order.AddFirst(node);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask MarkProcessedAsync(string webhookId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_index.TryGetValue(webhookId, out var existing))
            {
                _order.Remove(existing);
                _order.AddFirst(existing);
                return ValueTask.CompletedTask;
            }
            _index[webhookId] = _order.AddFirst(webhookId);
            while (_index.Count > _capacity && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _index.Remove(oldest.Value);
            }
        }
        return ValueTask.CompletedTask;
    }
}
