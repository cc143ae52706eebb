package org.adanewton.onnx;

import java.io.IOException;

/**
 * An ONNX file that {@link OnnxModel#read} refuses: truncated, corrupt, or holding what adanewton
 * does not read (a tensor type, external data, an old opset). The message names the file, the byte
 * offset and the field being read.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public final class OnnxFormatException extends IOException {
    private static final long serialVersionUID = 1L;
    private final long offset;

    /**
     * @param message the full message
     * @param offset the byte offset in the file where reading failed
     */
    public OnnxFormatException(String message, long offset) {
        super(message);
        this.offset = offset;
    }

    /** The byte offset in the file where reading failed. */
    public long offset() {
        return offset;
    }
}
