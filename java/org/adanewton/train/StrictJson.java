package org.adanewton.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The JSON of checkpoints, read strictly: standard JSON syntax; a record's object must hold each of
 * its components once and nothing else (unknown, repeated and missing fields are refused); null only
 * where the run may have none ({@link #NULLABLE}); a boolean must be true or false, a number a JSON
 * number (non-finite doubles are written as the strings "NaN", "Infinity", "-Infinity"), an enum one
 * of its constants; and the record's own constructor checks the values. Refusals say where, as a
 * JSON path ("$.config.warmStart.nesterov: ..."). Writing writes every component, nulls included.
 *
 * <p>{@link #LEGACY} reads format version 1 (written before this reader): lenient syntax, and a
 * missing field takes Java's default (null, 0, false), as that writer's reader did.
 */
final class StrictJson {
    /** The components that may be null: what a run of some kind does not have. */
    static final Set<String> NULLABLE = Set.of(
            "TrainConfig.trustRegion", "TrainConfig.cubic", "TrainConfig.krylov", "TrainConfig.norm", // first-order runs
            "TrainConfig.firstOrder", // second-order runs
            "TrainConfig.warmStart", "TrainerState.warmSampler", // runs without a warm start
            "TrainerState.minimizer", // first-order runs
            "TrainerState.termination", "MinimizerState.x", "Norm.NormState.accumulator", // vectors live in optimizer.safetensors
            "Checkpoint.State.data", "DataSource.source");

    // no HTML escaping: the network's identity and messages read as written ("<-", "=", "<=")
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().setStrictness(com.google.gson.Strictness.STRICT)
            .registerTypeAdapterFactory(new Factory(false)).create();
    static final Gson LEGACY = new GsonBuilder().serializeSpecialFloatingPointValues()
            .registerTypeAdapterFactory(new Factory(true)).create();

    private StrictJson() {}

    /** A double: a JSON number, or NaN / Infinity / -Infinity as the writer writes them (bare words, read as strings). */
    private static Double nextDouble(JsonReader in) throws IOException {
        if (in.peek() == JsonToken.STRING) {
            String word = in.nextString();
            return switch (word) {
                case "NaN" -> Double.NaN;
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> throw refusal(in, "expected a number, found the string \"" + word + "\"");
            };
        }
        return in.nextDouble();
    }

    private static JsonParseException refusal(JsonReader in, String what) {
        return new JsonParseException(in.getPreviousPath() + ": " + what);
    }

    private static final class Factory implements TypeAdapterFactory {
        private final boolean legacy;

        Factory(boolean legacy) {
            this.legacy = legacy;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
            Class<? super T> raw = type.getRawType();
            if (raw == boolean.class || raw == Boolean.class) return (TypeAdapter<T>) BOOLEAN;
            if (raw == int.class || raw == Integer.class) return (TypeAdapter<T>) number(type, JsonReader::nextInt, false);
            if (raw == long.class || raw == Long.class) return (TypeAdapter<T>) number(type, JsonReader::nextLong, false);
            if (raw == double.class || raw == Double.class) return (TypeAdapter<T>) number(type, StrictJson::nextDouble, true);
            if (raw.isEnum()) return (TypeAdapter<T>) new EnumAdapter(raw, gson.getDelegateAdapter(this, type));
            if (raw == TrainConfig.class) return (TypeAdapter<T>) new ConfigAdapter(new RecordAdapter<>(gson, this, TypeToken.get(TrainConfigJson.class),
                    legacy, "TrainConfig"));
            if (raw.isRecord()) return new RecordAdapter<>(gson, this, type, legacy, null);
            return null;
        }
    }

    private static final TypeAdapter<Boolean> BOOLEAN = new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Boolean value) throws IOException {
            if (value == null) out.nullValue();
            else out.value(value);
        }

        @Override
        public Boolean read(JsonReader in) throws IOException {
            if (in.peek() != JsonToken.BOOLEAN) throw refusal(in, "expected true or false, found " + describe(in));
            return in.nextBoolean();
        }
    };

    private interface NumberRead<N> {
        N read(JsonReader in) throws IOException;
    }

    /** words: NaN and the infinities may come as bare words (doubles). */
    private static <T, N> TypeAdapter<T> number(TypeToken<T> type, NumberRead<N> read, boolean words) {
        return new TypeAdapter<>() {
            @Override
            @SuppressWarnings("unchecked")
            public void write(JsonWriter out, T value) throws IOException {
                if (value == null) out.nullValue();
                else if (value instanceof Double d && !Double.isFinite(d)) out.value(d.toString()); // "NaN", "Infinity", "-Infinity"
                else out.value((Number) value);
            }

            @Override
            @SuppressWarnings("unchecked")
            public T read(JsonReader in) throws IOException {
                if (in.peek() != JsonToken.NUMBER && !(words && in.peek() == JsonToken.STRING))
                    throw refusal(in, "expected a number, found " + describe(in));
                try {
                    return (T) read.read(in);
                } catch (NumberFormatException e) {
                    throw refusal(in, "a number out of range for " + type.getRawType().getSimpleName());
                }
            }
        };
    }

    private static final class EnumAdapter<E extends Enum<E>> extends TypeAdapter<E> {
        private final Class<E> type;
        private final TypeAdapter<E> delegate;

        EnumAdapter(Class<E> type, TypeAdapter<E> delegate) {
            this.type = type;
            this.delegate = delegate;
        }

        @Override
        public void write(JsonWriter out, E value) throws IOException {
            delegate.write(out, value);
        }

        @Override
        public E read(JsonReader in) throws IOException {
            if (in.peek() != JsonToken.STRING) throw refusal(in, "expected one of " + Arrays.toString(type.getEnumConstants()) + ", found " + describe(in));
            String name = in.nextString();
            for (E e : type.getEnumConstants()) if (e.name().equals(name)) return e;
            throw refusal(in, "'" + name + "' is not one of " + Arrays.toString(type.getEnumConstants()));
        }
    }

    /** "the string \"abc\"", "a number", ... for a refusal. */
    private static String describe(JsonReader in) throws IOException {
        JsonToken t = in.peek();
        return switch (t) {
            case STRING -> "the string \"" + in.nextString() + "\"";
            case NUMBER -> "the number " + in.nextString();
            case BOOLEAN -> Boolean.toString(in.nextBoolean());
            case NULL -> "null";
            case BEGIN_ARRAY -> "an array";
            case BEGIN_OBJECT -> "an object";
            default -> t.toString();
        };
    }

    /** A TrainConfig as its JSON form ({@link TrainConfigJson}: the format of state.json). */
    private static final class ConfigAdapter extends TypeAdapter<TrainConfig> {
        private final TypeAdapter<TrainConfigJson> json;

        ConfigAdapter(TypeAdapter<TrainConfigJson> json) {
            this.json = json;
        }

        @Override
        public void write(JsonWriter out, TrainConfig value) throws IOException {
            json.write(out, value == null ? null : TrainConfigJson.of(value));
        }

        @Override
        public TrainConfig read(JsonReader in) throws IOException {
            TrainConfigJson j = json.read(in);
            return j == null ? null : j.config();
        }
    }

    private static final class RecordAdapter<T> extends TypeAdapter<T> {
        private final TypeAdapter<T> writer;
        private final RecordComponent[] components;
        private final TypeAdapter<?>[] adapters;
        private final Constructor<? super T> constructor;
        private final String name;
        private final boolean legacy;

        /** name: the record's name in refusals and in {@link #NULLABLE} (null: its class name, e.g. "Norm.NormState"). */
        RecordAdapter(Gson gson, TypeAdapterFactory skip, TypeToken<T> type, boolean legacy, String name) {
            this.legacy = legacy;
            Class<? super T> raw = type.getRawType();
            this.writer = gson.getDelegateAdapter(skip, type);
            this.components = raw.getRecordComponents();
            this.adapters = new TypeAdapter<?>[components.length];
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                adapters[i] = gson.getAdapter(TypeToken.get(components[i].getGenericType()));
                types[i] = components[i].getType();
            }
            try {
                this.constructor = raw.getDeclaredConstructor(types);
                this.constructor.setAccessible(true);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(raw + " has no canonical constructor", e);
            }
            this.name = name != null ? name : raw.getName().substring(raw.getPackageName().length() + 1).replace('$', '.'); // "Norm.NormState"
        }

        private boolean nullable(int component) {
            return NULLABLE.contains(name + "." + components[component].getName());
        }

        private static Object defaultValue(Class<?> type) {
            if (!type.isPrimitive()) return null;
            if (type == boolean.class) return false;
            if (type == int.class) return 0;
            if (type == long.class) return 0L;
            if (type == double.class) return 0.0;
            throw new IllegalStateException("no default for " + type);
        }

        @Override
        public void write(JsonWriter out, T value) throws IOException {
            writer.write(out, value);
        }

        @Override
        @SuppressWarnings("unchecked")
        public T read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            if (in.peek() != JsonToken.BEGIN_OBJECT) throw refusal(in, "expected an object (" + name + "), found " + describe(in));
            Map<String, Integer> index = new LinkedHashMap<>();
            for (int i = 0; i < components.length; i++) index.put(components[i].getName(), i);
            Object[] values = new Object[components.length];
            boolean[] seen = new boolean[components.length];
            String at = in.getPath();
            in.beginObject();
            while (in.hasNext()) {
                String field = in.nextName();
                Integer i = index.get(field);
                if (i == null) throw refusal(in, "unknown field '" + field + "' in " + name + " (its fields: " + index.keySet() + ")");
                if (seen[i]) throw refusal(in, "field '" + field + "' given twice");
                seen[i] = true;
                if (in.peek() == JsonToken.NULL) {
                    if (!nullable(i) && !legacy) throw refusal(in, "null where " + name + " needs a value (" + components[i].getType().getSimpleName() + ")");
                    if (components[i].getType().isPrimitive()) throw refusal(in, "null where a " + components[i].getType() + " is needed");
                    in.nextNull();
                } else {
                    values[i] = adapters[i].read(in);
                }
            }
            in.endObject();
            for (int i = 0; i < components.length; i++) {
                if (seen[i]) continue;
                if (!legacy) throw new JsonParseException(at + ": field '" + components[i].getName() + "' of " + name + " is missing");
                values[i] = defaultValue(components[i].getType());
            }
            try {
                return (T) constructor.newInstance(values);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                throw new JsonParseException(at + " (" + name + "): " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()), cause);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
