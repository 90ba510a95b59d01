<?php
// Pressluft node helper: the WordPress operations the control plane and the playbooks need,
// without WP-CLI. Run as the environment's Linux user:
//   php pl-wp.php --root=<release or current> <command> [--key=value ...]
// Stdout is exactly one JSON line: {"ok":true,...} (exit 0) or {"ok":false,"error":{"code","message"}}
// (exit 1); usage errors exit 2. Secrets (the admin password) come on stdin, never in argv.
// Managed by Pressluft (pressluft-helper role); do not edit on a node.

if (PHP_SAPI !== 'cli') {
    http_response_code(404);
    exit;
}

const PL_COMMANDS = [
    'install' => ['url', 'title', 'admin-user', 'admin-email'],
    'is-installed' => [],
    'db-ping' => [],
    'table-prefix' => [],
    'search-replace' => ['from', 'to'],
    'option-get' => ['name'],
    'option-set' => ['name', 'value'],
    'magic-login-token' => [],
    'cache-flush' => [],
    'update' => ['scope'],
    'db-upgrade' => [],
];

$GLOBALS['pl_done'] = false;

function pl_emit(array $payload, int $code): void
{
    // WordPress (or a plugin) may have printed something while loading: stdout must carry only our line.
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    $GLOBALS['pl_done'] = true;
    fwrite(STDOUT, json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PARTIAL_OUTPUT_ON_ERROR) . "\n");
    exit($code);
}

function pl_ok(array $data = []): void
{
    pl_emit(['ok' => true] + $data, 0);
}

function pl_fail(string $code, string $message, int $exit = 1): void
{
    pl_emit(['ok' => false, 'error' => ['code' => $code, 'message' => $message]], $exit);
}

// WordPress ends requests with die() in many places (dead database, wp_die): turn any exit that
// did not go through pl_emit into a JSON failure with a non-zero status.
register_shutdown_function(function (): void {
    if ($GLOBALS['pl_done']) {
        return;
    }
    $error = error_get_last();
    $buffer = '';
    while (ob_get_level() > 0) {
        $buffer = ob_get_clean() . $buffer;
    }
    $message = $error !== null && in_array($error['type'], [E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR], true)
        ? $error['message']
        : trim(preg_replace('/\s+/', ' ', strip_tags($buffer)));
    $GLOBALS['pl_done'] = true;
    fwrite(STDOUT, json_encode(['ok' => false, 'error' => ['code' => 'wordpress_exited', 'message' => substr($message !== '' ? $message : 'WordPress stopped the command', 0, 2000)]], JSON_UNESCAPED_SLASHES) . "\n");
    exit(1);
});

ob_start();

// ---- arguments -------------------------------------------------------------------------------

$pl_args = ['root' => null];
$pl_command = null;
foreach (array_slice($argv, 1) as $arg) {
    if (preg_match('/^--([a-z][a-z-]*)=(.*)$/s', $arg, $m)) {
        $pl_args[$m[1]] = $m[2];
    } elseif (preg_match('/^--([a-z][a-z-]*)$/', $arg, $m)) {
        $pl_args[$m[1]] = '';
    } elseif ($pl_command === null) {
        $pl_command = $arg;
    } else {
        pl_fail('usage', "unexpected argument: $arg", 2);
    }
}
if ($pl_command === null || !isset(PL_COMMANDS[$pl_command])) {
    pl_fail('usage', 'usage: pl-wp.php --root=<dir> <' . implode('|', array_keys(PL_COMMANDS)) . '> [--key=value ...]', 2);
}
foreach (array_merge(['root'], PL_COMMANDS[$pl_command]) as $required) {
    if (!isset($pl_args[$required]) || $pl_args[$required] === '' && $required !== 'value' && $required !== 'to') {
        pl_fail('usage', "missing --$required", 2);
    }
}
$pl_root = rtrim($pl_args['root'], '/');
if (!is_file("$pl_root/wp-load.php")) {
    pl_fail('usage', "no WordPress at $pl_root", 2);
}
if (!is_file("$pl_root/wp-config.php")) {
    pl_fail('no_config', "$pl_root/wp-config.php is missing");
}

// ---- wp-config without WordPress -------------------------------------------------------------

// Reads DB_* constants and $table_prefix with PHP's tokenizer, so db-ping, table-prefix and
// search-replace work even when WordPress itself cannot load.
function pl_read_config(string $file): array
{
    $tokens = array_values(array_filter(token_get_all((string) file_get_contents($file)), function ($t) {
        return !is_array($t) || !in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
    }));
    $literal = function ($t) {
        if (!is_array($t) || $t[0] !== T_CONSTANT_ENCAPSED_STRING) {
            return null;
        }
        $body = substr($t[1], 1, -1);
        return $t[1][0] === "'" ? str_replace(["\\\\", "\\'"], ["\\", "'"], $body) : stripcslashes($body);
    };
    $config = ['constants' => [], 'table_prefix' => null];
    $count = count($tokens);
    for ($i = 0; $i < $count; $i++) {
        $t = $tokens[$i];
        if (is_array($t) && $t[0] === T_STRING && strtolower($t[1]) === 'define' && ($tokens[$i + 1] ?? null) === '(') {
            $name = $literal($tokens[$i + 2] ?? null);
            if ($name !== null && ($tokens[$i + 3] ?? null) === ',') {
                $value = $literal($tokens[$i + 4] ?? null);
                if ($value !== null) {
                    $config['constants'][$name] = $value;
                }
            }
        } elseif (is_array($t) && $t[0] === T_VARIABLE && $t[1] === '$table_prefix' && ($tokens[$i + 1] ?? null) === '=') {
            $value = $literal($tokens[$i + 2] ?? null);
            if ($value !== null) {
                $config['table_prefix'] = $value;
            }
        }
    }
    return $config;
}

function pl_db_connect(array $config): mysqli
{
    $c = $config['constants'];
    foreach (['DB_NAME', 'DB_USER', 'DB_PASSWORD'] as $name) {
        if (!isset($c[$name])) {
            pl_fail('no_config', "$name is not defined in wp-config.php");
        }
    }
    $host = $c['DB_HOST'] ?? 'localhost';
    $port = null;
    $socket = null;
    if (preg_match('/^(.*):(\d+)$/', $host, $m)) {
        [$host, $port] = [$m[1], (int) $m[2]];
    } elseif (preg_match('/^(.*):(\/.+)$/', $host, $m)) {
        [$host, $socket] = [$m[1], $m[2]];
    }
    mysqli_report(MYSQLI_REPORT_OFF);
    $db = mysqli_init();
    $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
    if (!@$db->real_connect($host, $c['DB_USER'], $c['DB_PASSWORD'], $c['DB_NAME'], $port, $socket)) {
        pl_fail('db_connect_failed', 'cannot connect to the database: ' . mysqli_connect_error());
    }
    $db->set_charset($c['DB_CHARSET'] ?? 'utf8mb4');
    return $db;
}

// ---- serialization-safe search and replace ---------------------------------------------------

// The pure rewrite (PlReplacer, pl_replace_pairs) lives beside this file, so it can be tested without WordPress or a
// database (tests/unit/search-replace.test.ts).
require __DIR__ . '/pl-replace.php';

function pl_search_replace(mysqli $db, string $prefix, string $from, string $to, array $skip, ?array $only = null): array
{
    $pairs = pl_replace_pairs($from, $to);
    $replacer = new PlReplacer($pairs);
    $tables = [];
    $result = $db->query("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'");
    while ($row = $result->fetch_row()) {
        $table = $row[0];
        // --only-tables names full table names (promotion's shadow tables); otherwise every table with the prefix.
        if ($only !== null) {
            if (in_array($table, $only, true)) {
                $tables[] = $table;
            }
            continue;
        }
        if (strncmp($table, $prefix, strlen($prefix)) !== 0) {
            continue;
        }
        if (in_array($table, $skip, true) || in_array(substr($table, strlen($prefix)), $skip, true)) {
            continue;
        }
        $tables[] = $table;
    }
    $report = ['tables' => 0, 'rows' => 0, 'replacements' => 0, 'unparsable' => 0];
    foreach ($tables as $table) {
        $report['tables']++;
        $qt = '`' . str_replace('`', '``', $table) . '`';
        $columns = [];
        $result = $db->query("SHOW COLUMNS FROM $qt");
        while ($col = $result->fetch_assoc()) {
            if (preg_match('/char|text|blob|json/i', $col['Type'])) {
                $columns[] = $col['Field'];
            }
        }
        // A single-column primary key lets big tables be walked in pages and updated row by row (linear);
        // other tables are updated by exact old value (one statement per distinct value).
        $key = [];
        $result = $db->query("SHOW KEYS FROM $qt WHERE Key_name = 'PRIMARY'");
        while ($k = $result->fetch_assoc()) {
            $key[] = $k['Column_name'];
        }
        foreach ($columns as $column) {
            $qc = '`' . str_replace('`', '``', $column) . '`';
            $conditions = [];
            $params = [];
            foreach (array_keys($pairs) as $needle) {
                $conditions[] = "$qc LIKE BINARY ?";
                $params[] = '%' . addcslashes($needle, '\\%_') . '%';
            }
            if (count($key) === 1 && $key[0] !== $column) {
                $qk = '`' . str_replace('`', '``', $key[0]) . '`';
                $last = null;
                $update = $db->prepare("UPDATE $qt SET $qc = ? WHERE $qk = ?");
                for (;;) {
                    $where = '(' . implode(' OR ', $conditions) . ')' . ($last === null ? '' : " AND $qk > ?");
                    $select = $db->prepare("SELECT $qk, $qc FROM $qt WHERE $where ORDER BY $qk LIMIT 500");
                    $args = $last === null ? $params : array_merge($params, [$last]);
                    $select->bind_param(str_repeat('s', count($args)), ...$args);
                    $select->execute();
                    $rows = $select->get_result()->fetch_all(MYSQLI_NUM);
                    $select->close();
                    if ($rows === []) {
                        break;
                    }
                    // One transaction per page: a commit (and its log flush) per 500 rows, not per row.
                    $db->begin_transaction();
                    foreach ($rows as [$id, $old]) {
                        $last = (string) $id;
                        if ($old === null) {
                            continue;
                        }
                        $new = $replacer->value($old);
                        if ($new === $old) {
                            continue;
                        }
                        $update->bind_param('ss', $new, $last);
                        if (!$update->execute()) {
                            pl_fail('db_error', "updating $table.$column failed: " . $update->error);
                        }
                        $report['rows'] += $update->affected_rows;
                        $report['replacements']++;
                    }
                    $db->commit();
                }
                $update->close();
                continue;
            }
            // Update by exact (binary) old value: works for tables without a primary key too,
            // and identical values get identical replacements anyway.
            $select = $db->prepare("SELECT DISTINCT $qc FROM $qt WHERE " . implode(' OR ', $conditions));
            $select->bind_param(str_repeat('s', count($params)), ...$params);
            $select->execute();
            $values = $select->get_result()->fetch_all(MYSQLI_NUM);
            $select->close();
            foreach ($values as [$old]) {
                if ($old === null) {
                    continue;
                }
                $new = $replacer->value($old);
                if ($new === $old) {
                    continue;
                }
                $update = $db->prepare("UPDATE $qt SET $qc = ? WHERE $qc = BINARY ?");
                $update->bind_param('ss', $new, $old);
                if (!$update->execute()) {
                    pl_fail('db_error', "updating $table.$column failed: " . $update->error);
                }
                $report['rows'] += $update->affected_rows;
                $report['replacements']++;
                $update->close();
            }
        }
    }
    $report['unparsable'] = $replacer->unparsable;
    return $report;
}

// ---- commands that do not load WordPress -----------------------------------------------------

$pl_config = pl_read_config("$pl_root/wp-config.php");

if ($pl_command === 'table-prefix') {
    if ($pl_config['table_prefix'] === null) {
        pl_fail('no_config', '$table_prefix is not set in wp-config.php');
    }
    pl_ok(['table_prefix' => $pl_config['table_prefix']]);
}

if ($pl_command === 'db-ping') {
    $db = pl_db_connect($pl_config);
    $row = $db->query('SELECT 1')->fetch_row();
    $row[0] == 1 ? pl_ok(['db_ok' => true]) : pl_fail('db_error', 'SELECT 1 failed');
}

if ($pl_command === 'search-replace') {
    if ($pl_args['from'] === $pl_args['to']) {
        pl_ok(['tables' => 0, 'rows' => 0, 'replacements' => 0, 'unparsable' => 0]);
    }
    $db = pl_db_connect($pl_config);
    $skip = array_values(array_filter(array_map('trim', explode(',', $pl_args['skip-tables'] ?? ''))));
    $only = isset($pl_args['only-tables']) ? array_values(array_filter(array_map('trim', explode(',', $pl_args['only-tables'])))) : null;
    pl_ok(pl_search_replace($db, (string) $pl_config['table_prefix'], $pl_args['from'], $pl_args['to'], $skip, $only));
}

// ---- commands that load WordPress (at global scope: WordPress relies on globals) -------------

$pl_url = $pl_args['url'] ?? null;
$pl_parts = parse_url($pl_url ?? 'http://localhost/') ?: [];
$_SERVER['HTTP_HOST'] = ($pl_parts['host'] ?? 'localhost') . (isset($pl_parts['port']) ? ':' . $pl_parts['port'] : '');
$_SERVER['SERVER_NAME'] = $pl_parts['host'] ?? 'localhost';
$_SERVER['SERVER_PORT'] = (string) ($pl_parts['port'] ?? (($pl_parts['scheme'] ?? 'http') === 'https' ? 443 : 80));
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
if (($pl_parts['scheme'] ?? 'http') === 'https') {
    $_SERVER['HTTPS'] = 'on';
}
// Keeps wp_not_installed() from redirecting to install.php (and exiting) before install runs.
define('WP_INSTALLING', $pl_command === 'install' || $pl_command === 'is-installed');

if ($pl_command === 'install') {
    // For this process only (wp-config never defines them): wp_install() takes the site URL and
    // the first post's GUID from WP_SITEURL instead of guessing it from the CLI script path.
    define('WP_SITEURL', rtrim($pl_url, '/'));
    define('WP_HOME', rtrim($pl_url, '/'));
    // No local MTA on nodes: do not try to mail the new-site notice.
    function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
    {
    }
}

if ($pl_command === 'update') {
    // The release being updated is the environment user's own copy: write files directly, never over FTP/SSH.
    if (!defined('FS_METHOD')) {
        define('FS_METHOD', 'direct');
    }
    if (!in_array($pl_args['scope'], ['core', 'plugins', 'themes', 'all'], true)) {
        pl_fail('usage', '--scope must be core, plugins, themes or all', 2);
    }
}

require "$pl_root/wp-load.php";

switch ($pl_command) {
    case 'is-installed':
        is_blog_installed() ? pl_ok(['installed' => true]) : pl_fail('not_installed', 'WordPress is not installed');
        break;

    case 'install':
        if (is_blog_installed()) {
            pl_ok(['installed' => true, 'changed' => false]);
        }
        $password = rtrim((string) stream_get_contents(STDIN), "\r\n");
        if ($password === '') {
            pl_fail('usage', 'the admin password must be given on stdin', 2);
        }
        if (!is_email($pl_args['admin-email'])) {
            pl_fail('usage', 'invalid --admin-email', 2);
        }
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $result = wp_install($pl_args['title'], $pl_args['admin-user'], $pl_args['admin-email'], true, '', wp_slash($password));
        if (!empty($GLOBALS['wpdb']->last_error) || !is_blog_installed()) {
            pl_fail('install_failed', 'wp_install failed: ' . $GLOBALS['wpdb']->last_error);
        }
        $url = rtrim($pl_url, '/');
        update_option('siteurl', $url);
        update_option('home', $url);
        // nginx serves every path through index.php (try_files), so pretty permalinks just work.
        update_option('permalink_structure', '/%postname%/');
        flush_rewrite_rules(false);
        pl_ok(['installed' => true, 'changed' => true, 'user_id' => (int) $result['user_id']]);
        break;

    case 'option-get':
        $sentinel = new stdClass();
        $value = get_option($pl_args['name'], $sentinel);
        if ($value === $sentinel) {
            pl_fail('not_found', 'option ' . $pl_args['name'] . ' does not exist');
        }
        pl_ok(['name' => $pl_args['name'], 'value' => $value]);
        break;

    case 'option-set':
        // update_option() sanitizes (blog_public becomes an int) and an object cache keeps that type while the
        // database holds a string: compare scalars as strings, or a second run would report a change (or fail).
        $value = sanitize_option($pl_args['name'], $pl_args['value']);
        $same = fn ($current): bool => is_scalar($current) && (string) $current === (string) $value;
        $changed = !$same(get_option($pl_args['name']));
        if ($changed && !update_option($pl_args['name'], $value) && !$same(get_option($pl_args['name']))) {
            pl_fail('db_error', 'could not update option ' . $pl_args['name']);
        }
        pl_ok(['name' => $pl_args['name'], 'changed' => $changed]);
        break;

    case 'magic-login-token':
        $admins = get_users(['role' => 'administrator', 'orderby' => 'ID', 'order' => 'ASC', 'number' => 1, 'fields' => 'ID']);
        if ($admins === []) {
            pl_fail('no_admin', 'no administrator account exists');
        }
        $token = rtrim(strtr(base64_encode(random_bytes(32)), '+/', '-_'), '=');
        $expires = time() + 60;
        // Only the SHA-256 is stored, bound to the first administrator; the mu-plugin redeems it.
        set_transient('pressluft_magic_' . hash('sha256', $token), ['user_id' => (int) $admins[0], 'expires' => $expires], 60);
        pl_ok(['token' => $token, 'expires_at' => gmdate('Y-m-d\TH:i:s.000\Z', $expires)]);
        break;

    case 'update':
        pl_ok(pl_update($pl_args['scope'], rtrim($pl_args['source'] ?? '', '/')));
        break;

    case 'db-upgrade':
        // Run in its own process after a core update, so the new core's upgrade code is the one loaded.
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $before = (int) get_option('db_version');
        if ($before === (int) $GLOBALS['wp_db_version']) {
            pl_ok(['changed' => false, 'db_version' => $before]);
        }
        wp_upgrade();
        pl_ok(['changed' => true, 'db_version_before' => $before, 'db_version' => (int) get_option('db_version')]);
        break;

    case 'cache-flush':
        $flushed = wp_cache_flush();
        flush_rewrite_rules(false);
        pl_ok(['flushed' => (bool) $flushed]);
        break;
}
pl_fail('internal', 'unhandled command');

/**
 * Updates with WordPress's own upgrader classes (what wp-admin and WP-CLI use). $source, when set, replaces
 * https://api.wordpress.org/ for the update checks (<source>/<path>/index.json, answered by GET) and is trusted with the
 * system CA bundle; packages are downloaded from the URLs the answers name. Returns what changed.
 */
function pl_update(string $scope, string $source): array
{
    require_once ABSPATH . 'wp-admin/includes/admin.php';
    require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
    if ($source !== '') {
        $parts = parse_url($source);
        add_filter('pre_http_request', function ($pre, $args, $url) use ($source) {
            if (strpos($url, 'https://api.wordpress.org/') !== 0 && strpos($url, 'http://api.wordpress.org/') !== 0) {
                return $pre;
            }
            $path = parse_url($url, PHP_URL_PATH) ?: '/';
            $target = $source . rtrim($path, '/') . '/index.json';
            return wp_remote_get($target, ['timeout' => $args['timeout'] ?? 10]);
        }, 10, 3);
        add_filter('http_request_args', function ($args, $url) use ($source) {
            if (strpos($url, $source) === 0) {
                $args['sslcertificates'] = '/etc/ssl/certs/ca-certificates.crt';
            }
            return $args;
        }, 10, 2);
        // The configured source may sit on an address WordPress treats as internal (a lab, a mirror on a private
        // network; 6.8 also refuses 198.18.0.0/15): it is trusted because the operator configured it.
        add_filter('http_request_host_is_external', function ($external, $host) use ($parts) {
            return $external || strtolower($host) === strtolower($parts['host'] ?? '');
        }, 10, 2);
        if (isset($parts['port'])) {
            add_filter('http_allowed_safe_ports', function ($ports) use ($parts) {
                $ports[] = (int) $parts['port'];
                return $ports;
            });
        }
    }
    $skin = new Automatic_Upgrader_Skin();
    $report = ['core' => null, 'plugins' => [], 'themes' => []];
    $failed = function (string $what, $result) use ($skin) {
        $message = implode(' ', array_map('strip_tags', (array) $skin->get_upgrade_messages()));
        if (is_wp_error($result)) {
            // WP_Upgrader wraps the cause (e.g. the HTTP error of a download) in the error's data.
            $data = $result->get_error_data();
            $message = $result->get_error_message() . (is_string($data) && $data !== '' ? " ($data)" : '') . ($message !== '' ? " — $message" : '');
        }
        pl_fail('update_failed', "$what: " . ($message !== '' ? $message : 'the upgrader returned ' . var_export($result, true)));
    };

    if ($scope === 'core' || $scope === 'all') {
        wp_version_check([], true);
        $offer = null;
        foreach ((array) get_core_updates() as $update) {
            if (isset($update->response) && $update->response === 'upgrade') {
                $offer = $update;
                break;
            }
        }
        if ($offer !== null) {
            $from = get_bloginfo('version');
            $result = (new Core_Upgrader($skin))->upgrade($offer);
            if (is_wp_error($result) || $result === false || $result === null) {
                $failed('core update', $result);
            }
            $report['core'] = ['from' => $from, 'to' => $result];
        }
    }
    if ($scope === 'plugins' || $scope === 'all') {
        // Without this WordPress reuses the last answer for up to 12 hours.
        delete_site_transient('update_plugins');
        wp_update_plugins();
        $pending = get_site_transient('update_plugins');
        $files = array_keys((array) ($pending->response ?? []));
        if ($files !== []) {
            $before = get_plugins();
            $results = (new Plugin_Upgrader($skin))->bulk_upgrade($files);
            foreach ($files as $file) {
                if (empty($results[$file]) || is_wp_error($results[$file])) {
                    $failed("plugin $file", $results[$file] ?? false);
                }
                $report['plugins'][$file] = ['from' => $before[$file]['Version'] ?? null, 'to' => $pending->response[$file]->new_version ?? null];
            }
        }
    }
    if ($scope === 'themes' || $scope === 'all') {
        delete_site_transient('update_themes');
        wp_update_themes();
        $pending = get_site_transient('update_themes');
        $slugs = array_keys((array) ($pending->response ?? []));
        if ($slugs !== []) {
            $versions = [];
            foreach ($slugs as $slug) {
                $versions[$slug] = wp_get_theme($slug)->get('Version');
            }
            $results = (new Theme_Upgrader($skin))->bulk_upgrade($slugs);
            foreach ($slugs as $slug) {
                if (empty($results[$slug]) || is_wp_error($results[$slug])) {
                    $failed("theme $slug", $results[$slug] ?? false);
                }
                $report['themes'][$slug] = ['from' => $versions[$slug], 'to' => $pending->response[$slug]['new_version'] ?? null];
            }
        }
    }
    $report['changed'] = $report['core'] !== null || $report['plugins'] !== [] || $report['themes'] !== [];
    return $report;
}
