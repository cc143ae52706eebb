package org.adanewton.data;

import java.io.IOException;

/**
 * A data file is not what its reader expects: wrong magic number, wrong dimension count,
 * zero or absurd dimensions, truncated or over-long content, a label out of range, or image
 * and label counts that disagree. The message always names the file and, where the problem
 * sits at a definite place, the byte offset (for gzip files, the offset in the decompressed
 * stream) and what was expected against what was found.
 *
 * <p>Thread safety: immutable (it adds no mutable state to its superclass): safe to share between
 * threads.
 */
public class DataFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long offset;

    /**
     * @param file   the file (or resource) concerned
     * @param offset the byte offset of the problem, or -1 when it concerns no single place
     * @param detail what was expected and what was found
     */
    public DataFormatException(String file, long offset, String detail) {
        this(file, offset, detail, null);
    }

    /** As {@link #DataFormatException(String, long, String)}, with the underlying cause. */
    public DataFormatException(String file, long offset, String detail, Throwable cause) {
        super(file + (offset >= 0 ? ": at byte offset " + offset : "") + ": " + detail, cause);
        this.file = file;
        this.offset = offset;
    }

    /** The file (or classpath resource) the problem was found in. */
    public String file() {
        return file;
    }

    /** The byte offset of the problem (decompressed offset for gzip input), or -1 when none applies. */
    public long offset() {
        return offset;
    }
}
