// Quoting for the shell scripts the harness generates (dom0's script, the initramfs /init files).

/// `text` as one word for sh and bash: single quotes, with each `'` written as `'\''`.
public func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
