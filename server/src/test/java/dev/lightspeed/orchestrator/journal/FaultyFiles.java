package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting file layer for the journal and the snapshot store (what Jepsen's lazyfs does
 * to a real process): it can delay or fail writes and fsyncs, fill the disk, and at a simulated
 * crash ({@link #crash}) drop every byte that was not fsynced.
 *
 * <p>Each channel keeps an undo log of its writes since its last successful fsync (the bytes they
 * overwrote, and the file's size before). A successful {@code force} forgets the entries since
 * the last failed one. A failed {@code force} keeps them for good, as Linux does after a failed
 * fsync (the dirty pages may be marked clean and a later fsync does not write them again:
 * PostgreSQL's "fsyncgate"). {@link #crash} undoes every remembered entry, newest first, and
 * makes every later call through this layer fail. Directory entries (renames, deletes) are not
 * modelled: they go to the real file system and count as durable.
 */
public final class FaultyFiles implements JournalFiles {
  /** Counts of what was done and injected, for the tests' reports. */
  public final AtomicLong writes = new AtomicLong();
  public final AtomicLong forces = new AtomicLong();
  public final AtomicLong failedWrites = new AtomicLong();
  public final AtomicLong failedForces = new AtomicLong();
  public final AtomicLong diskFullWrites = new AtomicLong();
  public final AtomicLong delayedCalls = new AtomicLong();
  public final AtomicLong bytesDroppedAtCrash = new AtomicLong();

  private volatile long writeDelayMs;
  private volatile long forceDelayMs;
  private volatile boolean failWrites;
  private volatile boolean failForces;
  /** Bytes the files may still grow by; a write beyond fails with "No space left on device". */
  private volatile long spaceLeft = Long.MAX_VALUE;
  private boolean crashed;
  private final List<Channel> channels = new ArrayList<>();

  public void delayWrites(long ms) {
    writeDelayMs = ms;
  }

  public void delayForces(long ms) {
    forceDelayMs = ms;
  }

  public void failWrites(boolean on) {
    failWrites = on;
  }

  public void failForces(boolean on) {
    failForces = on;
  }

  /** The disk has {@code bytes} left from now on (Long.MAX_VALUE = no limit). */
  public synchronized void spaceLeft(long bytes) {
    spaceLeft = bytes;
  }

  /**
   * Simulates a power loss: every byte not fsynced is undone in every file written through this
   * layer, and every later call through it fails (so the old server's threads write no more).
   */
  public synchronized void crash() throws IOException {
    crashed = true;
    for (Channel c : channels) {
      c.undoUnsynced();
    }
  }

  @Override
  public synchronized FileChannel open(Path file, OpenOption... options) throws IOException {
    ensureAlive();
    // Also readable: a write remembers the bytes it replaces, to undo them at a simulated crash.
    java.util.Set<OpenOption> withRead = new java.util.HashSet<>(java.util.Arrays.asList(options));
    withRead.add(java.nio.file.StandardOpenOption.READ);
    Channel channel = new Channel(file, FileChannel.open(file, withRead));
    channels.add(channel);
    return channel;
  }

  private void ensureAlive() throws IOException {
    if (crashed) {
      throw new IOException("simulated crash: this process is gone");
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One entry of a channel's undo log: the bytes at {@code position} before, the size before. */
  private record Undo(long position, byte[] before, long sizeBefore) {}

  private final class Channel extends FileChannel {
    private final Path path;
    private final FileChannel real;
    private final List<Undo> undo = new ArrayList<>();
    /** Entries before this index were lost by a failed fsync: no later fsync saves them. */
    private int lostUpTo;

    Channel(Path path, FileChannel real) {
      this.path = path;
      this.real = real;
    }

    /** Under the outer lock: records what {@code length} bytes at {@code position} replace. */
    private void remember(long position, int length) throws IOException {
      long size = real.size();
      int overlap = (int) Math.max(0, Math.min(length, size - position));
      ByteBuffer before = ByteBuffer.allocate(overlap);
      while (before.hasRemaining()) {
        if (real.read(before, position + before.position()) < 0) {
          break;
        }
      }
      undo.add(new Undo(position, before.array(), size));
    }

    private int doWrite(ByteBuffer src, long position) throws IOException {
      if (writeDelayMs > 0) {
        delayedCalls.incrementAndGet();
        sleep(writeDelayMs);
      }
      synchronized (FaultyFiles.this) {
        ensureAlive();
        if (failWrites) {
          failedWrites.incrementAndGet();
          throw new IOException("Input/output error (injected write failure on " + path + ")");
        }
        int length = src.remaining();
        long growth = Math.max(0, position + length - real.size());
        if (growth > spaceLeft) {
          diskFullWrites.incrementAndGet();
          throw new IOException("No space left on device (injected, writing " + path + ")");
        }
        if (spaceLeft != Long.MAX_VALUE) {
          spaceLeft -= growth;
        }
        remember(position, length);
        writes.incrementAndGet();
        int written = 0;
        while (src.hasRemaining()) {
          written += real.write(src, position + written);
        }
        return written;
      }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      long position = real.position();
      int written = doWrite(src, position);
      real.position(position + written);
      return written;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return doWrite(src, position);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long total = 0;
      for (int i = offset; i < offset + length; i++) {
        total += write(srcs[i]);
      }
      return total;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (forceDelayMs > 0) {
        delayedCalls.incrementAndGet();
        sleep(forceDelayMs);
      }
      synchronized (FaultyFiles.this) {
        ensureAlive();
        if (failForces) {
          failedForces.incrementAndGet();
          lostUpTo = undo.size();
          throw new IOException("Input/output error (injected fsync failure on " + path + ")");
        }
        real.force(metaData);
        forces.incrementAndGet();
        undo.subList(lostUpTo, undo.size()).clear();
      }
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      synchronized (FaultyFiles.this) {
        ensureAlive();
        long old = real.size();
        if (size < old) {
          remember(size, (int) Math.min(Integer.MAX_VALUE, old - size));
        }
        real.truncate(size);
        return this;
      }
    }

    /** Under the outer lock, at the crash: puts back what every remembered write replaced. */
    void undoUnsynced() throws IOException {
      if (undo.isEmpty() || !Files.exists(path)) {
        return; // nothing unsynced, or renamed / deleted since (a finished snapshot, a compaction)
      }
      try (FileChannel ch = FileChannel.open(path, java.nio.file.StandardOpenOption.WRITE)) {
        for (int i = undo.size() - 1; i >= 0; i--) {
          Undo u = undo.get(i);
          long size = ch.size();
          bytesDroppedAtCrash.addAndGet(Math.max(0, size - u.sizeBefore()) + u.before().length);
          ByteBuffer before = ByteBuffer.wrap(u.before());
          while (before.hasRemaining()) {
            ch.write(before, u.position() + before.position());
          }
          if (size > u.sizeBefore()) {
            ch.truncate(u.sizeBefore());
          }
        }
        ch.force(true);
      }
      undo.clear();
      lostUpTo = 0;
    }

    // ---- the rest is the real channel's ------------------------------------------------------

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return real.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      real.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) {
      throw new UnsupportedOperationException("not used by the journal");
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
      throw new UnsupportedOperationException("not used by the journal");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) {
      throw new UnsupportedOperationException("not used by the journal");
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }
  }
}
