package org.adanewton.data;

import static org.adanewton.data.IdxFiles.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CIFAR-10 binary batches: layout, scaling and format errors. */
class Cifar10ReaderTest {
    /** Raw pixels are exact small integers; scaled ones are v / 255f. */
    static final float PIXEL_ATOL = 1e-7f;

    @TempDir
    Path dir;

    @Test
    void validFileKeepsNchwOrderRawAndScaled() throws Exception {
        Path f = write(dir, "b.bin", cifar(3));
        for (boolean scale : new boolean[] {false, true}) {
            Dataset d = Cifar10Reader.read(List.of(f), scale, "CIFAR-10 test");
            assertEquals(3, d.size());
            assertEquals(3, d.channels());
            assertEquals(32, d.height());
            assertEquals(32, d.width());
            assertEquals(3072, d.inputDim());
            assertEquals(10, d.classes());
            assertArrayEquals(new int[] {0, 1, 2}, d.labels());
            double unit = scale ? 255.0 : 1.0;
            for (int r = 0; r < 3; r++)
                for (int p = 0; p < 3072; p++)
                    assertEquals(((r + p) % 256) / unit, d.inputs()[r * 3072 + p], PIXEL_ATOL, "record " + r + " byte " + p);
            // byte 1 of a record is red (0,0), byte 1 + 1024 green (0,0), byte 1 + 2048 blue (0,0): plane order kept
            assertEquals(((1 + 1024) % 256) / unit, d.inputs()[3072 + 1024], PIXEL_ATOL);
            assertEquals("CIFAR-10 test (3 samples, 3x32x32) from " + dir.toAbsolutePath(), d.description());
        }
    }

    @Test
    void readTrainConcatenatesTheFiveBatchesInOrder() throws Exception {
        for (int b = 1; b <= 5; b++) {
            byte[] rec = cifar(2);
            rec[0] = (byte) b; // first record of batch b has label b
            write(dir, "data_batch_" + b + ".bin", rec);
        }
        write(dir, "test_batch.bin", cifar(4));
        Dataset train = Cifar10Reader.readTrain(dir, false);
        assertEquals(10, train.size());
        for (int b = 1; b <= 5; b++) assertEquals(b, train.labels()[2 * (b - 1)]);
        assertTrue(train.name().startsWith("CIFAR-10 train"), train.name());
        Dataset test = Cifar10Reader.readTest(dir, true);
        assertEquals(4, test.size());
        assertTrue(test.name().contains("/ 255"), test.name());
    }

    @Test
    void wrongLengthNamesFileLengthAndRule() throws Exception {
        Path f = write(dir, "short.bin", Arrays.copyOf(cifar(2), 3073 + 100));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Cifar10Reader.read(List.of(f), false, "x"));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("3173"), e.getMessage());
        assertTrue(e.getMessage().contains("not a positive multiple of the record size 3073"), e.getMessage());
        Path empty = write(dir, "empty.bin", new byte[0]);
        e = assertThrows(DataFormatException.class, () -> Cifar10Reader.read(List.of(empty), false, "x"));
        assertTrue(e.getMessage().contains("file length 0"), e.getMessage());
    }

    @Test
    void badLabelNamesFileRecordAndOffset() throws Exception {
        byte[] b = cifar(3);
        b[2 * 3073] = 10;
        Path f = write(dir, "bad.bin", b);
        DataFormatException e = assertThrows(DataFormatException.class, () -> Cifar10Reader.read(List.of(f), true, "x"));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("record 2 has label 10"), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset 6146"), e.getMessage());
        assertEquals(6146, e.offset());
    }

    @Test
    void missingFilesAreAllNamed() throws Exception {
        write(dir, "data_batch_1.bin", cifar(1));
        write(dir, "data_batch_3.bin", cifar(1));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Cifar10Reader.readTrain(dir, false));
        for (String m : List.of("data_batch_2.bin", "data_batch_4.bin", "data_batch_5.bin"))
            assertTrue(e.getMessage().contains(m), e.getMessage());
        assertFalse(e.getMessage().contains("data_batch_1.bin"), e.getMessage());
    }
}
