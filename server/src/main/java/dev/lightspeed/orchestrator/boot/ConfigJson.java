package dev.lightspeed.orchestrator.boot;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.v1.ServerConfig;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The {@code --config} file's protobuf JSON, with parse errors a user can act on. */
final class ConfigJson {
  /** protobuf-java-util's words for an unknown enum name; it lists no valid ones. */
  private static final Pattern INVALID_ENUM =
      Pattern.compile("Invalid enum value: (.+) for enum type: ([\\w.]+)");

  private ConfigJson() {}

  /** The text is not a ServerConfig; the message says where and what would be valid. */
  static final class InvalidConfig extends IOException {
    private static final long serialVersionUID = 1L;

    InvalidConfig(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static ServerConfig parse(String json) throws InvalidConfig {
    ServerConfig.Builder builder = ServerConfig.newBuilder();
    try {
      JsonFormat.parser().merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidConfig(explain(e.getMessage(), ServerConfig.getDescriptor()), e);
    }
    return builder.build();
  }

  /** The parser's message, with the valid names added when it is about an enum value. */
  static String explain(String message, Descriptor root) {
    if (message == null) {
      return "unreadable JSON";
    }
    Matcher m = INVALID_ENUM.matcher(message);
    if (!m.find()) {
      return message;
    }
    EnumDescriptor type = findEnum(root, m.group(2), new HashSet<>());
    if (type == null) {
      return message;
    }
    String valid = type.getValues().stream()
        .filter(v -> !v.getName().endsWith("_UNSPECIFIED"))
        .map(EnumValueDescriptor::getName)
        .collect(Collectors.joining(", "));
    return m.group(1) + " is not a " + type.getName() + "; valid values: " + valid;
  }

  private static EnumDescriptor findEnum(Descriptor message, String fullName, Set<String> seen) {
    if (!seen.add(message.getFullName())) {
      return null;
    }
    for (FieldDescriptor field : message.getFields()) {
      if (field.getType() == FieldDescriptor.Type.ENUM
          && field.getEnumType().getFullName().equals(fullName)) {
        return field.getEnumType();
      }
      if (field.getType() == FieldDescriptor.Type.MESSAGE) {
        EnumDescriptor found = findEnum(field.getMessageType(), fullName, seen);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
