package dev.lightspeed.orchestrator.core;

/**
 * The per-item results of a bulk command (Enqueue, Ack): item {@code i} either succeeded with a
 * value or was refused with a {@link Rejection}, and refusing one item does not stop the others.
 *
 * <p>One array holds both kinds, so a bulk call allocates nothing per item beyond the results
 * themselves; the accessors keep the typing.
 *
 * @param <T> an item's successful result
 */
public final class ItemResults<T> {
  private final Object[] slots;
  private int size;

  ItemResults(int capacity) {
    this.slots = new Object[capacity];
  }

  /**
   * Results made elsewhere, item by item a {@code T} or a {@link Rejection}: a cluster node
   * receives them from the node that applied the command.
   */
  @SuppressWarnings("unchecked")
  public static <T> ItemResults<T> of(java.util.List<?> items) {
    ItemResults<T> results = new ItemResults<>(items.size());
    for (Object item : items) {
      if (item instanceof Rejection r) {
        results.refuse(r);
      } else {
        results.add((T) item);
      }
    }
    return results;
  }

  void add(T value) {
    slots[size++] = value;
  }

  void refuse(Rejection r) {
    slots[size++] = r;
  }

  public int size() {
    return size;
  }

  /** Whether item {@code i} was refused. */
  public boolean refused(int i) {
    return slots[i] instanceof Rejection;
  }

  /** Item {@code i}'s refusal, or null if it succeeded. */
  public Rejection refusal(int i) {
    return slots[i] instanceof Rejection r ? r : null;
  }

  /** Item {@code i}'s result; throws its refusal if it was refused. */
  @SuppressWarnings("unchecked")
  public T value(int i) {
    Object slot = slots[i];
    if (slot instanceof Rejection r) {
      throw r;
    }
    return (T) slot;
  }

  /** The only item's result, or its refusal thrown: for EnqueueBatch and AckBatch. */
  public T single() {
    if (size != 1) {
      throw new IllegalStateException("not a single item: " + size);
    }
    return value(0);
  }

  /** How many items succeeded. */
  public int succeeded() {
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (!(slots[i] instanceof Rejection)) {
        n++;
      }
    }
    return n;
  }
}
