<?php
/**
 * Pressluft object cache drop-in: a persistent WordPress object cache in Redis (phpredis).
 *
 * Managed by Pressluft: shared/object-cache.php exists only while the environment's Redis cache is
 * enabled; every release links wp-content/object-cache.php to it.
 * - Honours WP_REDIS_HOST, WP_REDIS_PORT, WP_REDIS_DATABASE and WP_REDIS_PREFIX (from wp-config.php).
 * - All environments share one Redis; every key carries the environment's prefix, and a flush
 *   deletes only keys with that prefix (SCAN + UNLINK, never FLUSHDB/FLUSHALL).
 * - If Redis is unreachable, or phpredis is missing, the cache silently degrades to memory only
 *   for the current request, like WordPress without a drop-in.
 */

if (!defined('ABSPATH')) {
    exit;
}

function wp_cache_init()
{
    $GLOBALS['wp_object_cache'] = new WP_Object_Cache();
}

function wp_cache_add($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->add($key, $data, $group, (int) $expire);
}

function wp_cache_add_multiple(array $data, $group = '', $expire = 0)
{
    $result = [];
    foreach ($data as $key => $value) {
        $result[$key] = wp_cache_add($key, $value, $group, $expire);
    }
    return $result;
}

function wp_cache_replace($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->replace($key, $data, $group, (int) $expire);
}

function wp_cache_set($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->set($key, $data, $group, (int) $expire);
}

function wp_cache_set_multiple(array $data, $group = '', $expire = 0)
{
    $result = [];
    foreach ($data as $key => $value) {
        $result[$key] = wp_cache_set($key, $value, $group, $expire);
    }
    return $result;
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    return $GLOBALS['wp_object_cache']->get($key, $group, $force, $found);
}

function wp_cache_get_multiple($keys, $group = '', $force = false)
{
    return $GLOBALS['wp_object_cache']->get_multiple($keys, $group, $force);
}

function wp_cache_delete($key, $group = '')
{
    return $GLOBALS['wp_object_cache']->delete($key, $group);
}

function wp_cache_delete_multiple(array $keys, $group = '')
{
    $result = [];
    foreach ($keys as $key) {
        $result[$key] = wp_cache_delete($key, $group);
    }
    return $result;
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, (int) $offset, $group);
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, -(int) $offset, $group);
}

function wp_cache_flush()
{
    return $GLOBALS['wp_object_cache']->flush();
}

function wp_cache_flush_runtime()
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_flush_group($group)
{
    return $GLOBALS['wp_object_cache']->flush_group($group);
}

function wp_cache_supports($feature)
{
    return in_array($feature, ['add_multiple', 'set_multiple', 'get_multiple', 'delete_multiple', 'flush_runtime', 'flush_group'], true);
}

function wp_cache_close()
{
    return true;
}

function wp_cache_add_global_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_global_groups($groups);
}

function wp_cache_add_non_persistent_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_non_persistent_groups($groups);
}

function wp_cache_switch_to_blog($blog_id)
{
    $GLOBALS['wp_object_cache']->switch_to_blog((int) $blog_id);
}

function wp_cache_reset()
{
    _deprecated_function(__FUNCTION__, '3.5.0', 'wp_cache_switch_to_blog()');
    return false;
}

class WP_Object_Cache
{
    public $cache_hits = 0;
    public $cache_misses = 0;
    public $redis_connected = false;

    /** @var array<string, mixed> request-local copy, keyed like Redis */
    private $cache = [];
    private $global_groups = [];
    private $non_persistent_groups = [];
    private $blog_prefix = '';
    private $prefix;
    /** @var Redis|null */
    private $redis = null;

    public function __construct()
    {
        $this->prefix = defined('WP_REDIS_PREFIX') ? (string) WP_REDIS_PREFIX : '';
        $this->blog_prefix = is_multisite() ? get_current_blog_id() . ':' : '';
        if (!class_exists('Redis')) {
            return;
        }
        try {
            $redis = new Redis();
            $host = defined('WP_REDIS_HOST') ? WP_REDIS_HOST : '127.0.0.1';
            $port = defined('WP_REDIS_PORT') ? (int) WP_REDIS_PORT : 6379;
            if (!$redis->connect($host, $port, 1.0, null, 0, 1.0)) {
                return;
            }
            $redis->select(defined('WP_REDIS_DATABASE') ? (int) WP_REDIS_DATABASE : 0);
            $redis->setOption(Redis::OPT_SERIALIZER, Redis::SERIALIZER_PHP);
            $this->redis = $redis;
            $this->redis_connected = true;
        } catch (Throwable $e) {
            $this->redis = null;
        }
    }

    public function add_global_groups($groups)
    {
        foreach ((array) $groups as $group) {
            $this->global_groups[$group] = true;
        }
    }

    public function add_non_persistent_groups($groups)
    {
        foreach ((array) $groups as $group) {
            $this->non_persistent_groups[$group] = true;
        }
    }

    public function switch_to_blog($blog_id)
    {
        $this->blog_prefix = is_multisite() ? $blog_id . ':' : '';
    }

    private function key($key, $group)
    {
        $group = $group === '' ? 'default' : $group;
        $scope = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return $this->prefix . $scope . $group . ':' . $key;
    }

    private function persistent($group)
    {
        return $this->redis !== null && !isset($this->non_persistent_groups[$group === '' ? 'default' : $group]);
    }

    private function copy($data)
    {
        return is_object($data) ? clone $data : $data;
    }

    /** Runs a Redis call; on a connection error the cache falls back to memory for the rest of the request. */
    private function call(callable $fn, $fallback)
    {
        try {
            return $fn($this->redis);
        } catch (Throwable $e) {
            $this->redis = null;
            $this->redis_connected = false;
            return $fallback;
        }
    }

    private function exists($id, $group)
    {
        if (array_key_exists($id, $this->cache)) {
            return true;
        }
        return $this->persistent($group) && (bool) $this->call(fn ($r) => $r->exists($id), false);
    }

    public function add($key, $data, $group = '', $expire = 0)
    {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        $id = $this->key($key, $group);
        if ($this->persistent($group)) {
            $options = $expire > 0 ? ['nx', 'ex' => $expire] : ['nx'];
            if (!$this->call(fn ($r) => $r->set($id, $data, $options), false)) {
                if ($this->redis !== null) {
                    return false;
                }
            }
        } elseif (array_key_exists($id, $this->cache)) {
            return false;
        }
        $this->cache[$id] = $this->copy($data);
        return true;
    }

    public function replace($key, $data, $group = '', $expire = 0)
    {
        $id = $this->key($key, $group);
        if (!$this->exists($id, $group)) {
            return false;
        }
        return $this->set($key, $data, $group, $expire);
    }

    public function set($key, $data, $group = '', $expire = 0)
    {
        $id = $this->key($key, $group);
        $this->cache[$id] = $this->copy($data);
        if ($this->persistent($group)) {
            $this->call(fn ($r) => $expire > 0 ? $r->setex($id, $expire, $data) : $r->set($id, $data), false);
        }
        return true;
    }

    public function get($key, $group = '', $force = false, &$found = null)
    {
        $id = $this->key($key, $group);
        if (!$force && array_key_exists($id, $this->cache)) {
            $found = true;
            $this->cache_hits++;
            return $this->copy($this->cache[$id]);
        }
        if ($this->persistent($group)) {
            $raw = $this->call(fn ($r) => $r->get($id), false);
            // phpredis returns false for a missing key; a stored false is serialized as b:0; and
            // comes back as false too, so ask Redis whether the key exists to tell them apart.
            if ($raw !== false || $this->call(fn ($r) => (bool) $r->exists($id), false)) {
                $found = true;
                $this->cache_hits++;
                $this->cache[$id] = $raw;
                return $this->copy($raw);
            }
        }
        $found = false;
        $this->cache_misses++;
        return false;
    }

    public function get_multiple($keys, $group = '', $force = false)
    {
        $values = [];
        foreach ($keys as $key) {
            $values[$key] = $this->get($key, $group, $force);
        }
        return $values;
    }

    public function delete($key, $group = '')
    {
        $id = $this->key($key, $group);
        $existed = array_key_exists($id, $this->cache);
        unset($this->cache[$id]);
        if ($this->persistent($group)) {
            $existed = (bool) $this->call(fn ($r) => $r->unlink($id), 0) || $existed;
        }
        return $existed;
    }

    public function incr($key, $offset = 1, $group = '')
    {
        $value = $this->get($key, $group);
        if ($value === false) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    /** Deletes this environment's keys only: other environments share the Redis database. */
    public function flush()
    {
        $this->cache = [];
        if ($this->redis === null) {
            return true;
        }
        return $this->unlink_matching($this->prefix . '*');
    }

    public function flush_group($group)
    {
        $group = $group === '' ? 'default' : $group;
        foreach (array_keys($this->cache) as $id) {
            if (strpos($id, ':' . $group . ':') !== false || strpos($id, $this->prefix . $group . ':') === 0) {
                unset($this->cache[$id]);
            }
        }
        if ($this->redis === null) {
            return true;
        }
        $scope = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return $this->unlink_matching($this->prefix . $scope . $group . ':*');
    }

    public function flush_runtime()
    {
        $this->cache = [];
        return true;
    }

    private function unlink_matching($pattern)
    {
        if ($this->prefix === '' && $pattern === '*') {
            // Without a prefix a flush would wipe every environment's keys: refuse.
            return false;
        }
        return (bool) $this->call(function ($r) use ($pattern) {
            $r->setOption(Redis::OPT_SCAN, Redis::SCAN_RETRY);
            $iterator = null;
            $match = str_replace(['[', ']', '?'], ['\\[', '\\]', '\\?'], substr($pattern, 0, -1)) . '*';
            while (($keys = $r->scan($iterator, $match, 1000)) !== false) {
                if ($keys !== []) {
                    $r->unlink($keys);
                }
                if ($iterator === 0) {
                    break;
                }
            }
            return true;
        }, false);
    }

    public function stats()
    {
        echo '<p><strong>Cache hits:</strong> ' . (int) $this->cache_hits . '<br /><strong>Cache misses:</strong> ' . (int) $this->cache_misses . '<br /><strong>Redis:</strong> ' . ($this->redis_connected ? 'connected' : 'not connected (memory only)') . '</p>';
    }
}
