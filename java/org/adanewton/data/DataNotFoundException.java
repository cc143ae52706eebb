package org.adanewton.data;

import java.io.IOException;

/**
 * A data set could not be found: the directory given explicitly (or by {@code ADANEWTON_DATA})
 * lacks the expected files, or no place searched held them. The message names the directories
 * and the missing file names, or lists every place looked at.
 *
 * <p>Thread safety: immutable (it adds no mutable state to its superclass): safe to share between
 * threads.
 */
public class DataNotFoundException extends IOException {
    private static final long serialVersionUID = 1L;

    public DataNotFoundException(String message) {
        super(message);
    }
}
