package org.adanewton.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One run at a time per output directory: a lock on OUT/{@value #FILE} (the operating system's file
 * lock, released when the process ends, however it ends), which also holds the holder's process id.
 * A second run on the same directory fails at once, naming that process. Within one JVM the held
 * directories are also kept in a set, checked before the file is opened: closing a second channel
 * on a locked file would drop the first one's operating-system lock.
 */
final class OutputLock implements AutoCloseable {
    static final String FILE = ".adanewton.lock";
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    static OutputLock acquire(Path dir) throws IOException {
        Path file = dir.resolve(FILE), key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) throw inUse(dir, file, Long.toString(ProcessHandle.current().pid()));
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) throw inUse(dir, file, new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim());
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
            channel.force(false);
            return new OutputLock(key, channel, lock);
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            if (channel != null) channel.close(); // this JVM held no lock on it: closing drops nothing
            throw e;
        }
    }

    private static IOException inUse(Path dir, Path file, String holder) {
        return new IOException(dir + " is in use by another adanewton run (process " + (holder.isEmpty() ? "unknown" : holder) + ", from " + file
                + "); give this run another --out, or wait for that one to end");
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            try {
                channel.close();
            } finally {
                HELD.remove(key);
            }
        }
    }
}
