package org.adanewton.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.adanewton.data.DataLocator;
import org.adanewton.train.Preset;

/** Finds the data a preset needs and says where it came from. */
final class DataChoice {
    private DataChoice() {}

    static DataLocator.Located load(Preset preset, Path dir) throws IOException {
        DataLocator.Located found = find(preset, dir);
        if (found.train().inputDim() != preset.network().inputDim())
            throw new IllegalArgumentException("preset " + preset.name() + " expects " + preset.network().inputDim() + " inputs per sample but the data in "
                    + found.source() + " have " + found.train().inputDim());
        if (!preset.autoencoder()) return found;
        return new DataLocator.Located(found.train().asAutoencoder(), found.test().asAutoencoder(), found.source());
    }

    private static DataLocator.Located find(Preset preset, Path dir) throws IOException {
        return switch (preset.dataset()) {
            case "fashion-mnist" -> DataLocator.fashionMnist(dir);
            case "mnist" -> {
                if (dir == null && System.getenv(DataLocator.ENV) == null)
                    throw new IllegalArgumentException("preset " + preset.name() + " needs MNIST: pass --data DIR (or set " + DataLocator.ENV
                            + ") with the four IDX files; no MNIST package exists in Debian, and the bundled data are Fashion-MNIST");
                yield DataLocator.fashionMnist(dir);
            }
            case "cifar-10" -> DataLocator.cifar10(dir, false);
            default -> throw new IllegalArgumentException("unknown dataset " + preset.dataset());
        };
    }
}
