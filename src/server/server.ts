/**
 * The qm.toml language server arrives with its own issue; this entry exists so the build emits
 * the three bundles the extension will ship. It exits at once if started.
 */
process.stderr.write('quartermaster language server: not part of this build yet\n');
process.exitCode = 1;
