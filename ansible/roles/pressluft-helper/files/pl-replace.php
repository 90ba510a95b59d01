<?php
// Pressluft node helper: the serialization-safe URL rewrite used by pl-wp.php search-replace (imports, promotions,
// restores into another environment). Pure PHP without WordPress or a database: strings are rewritten with strtr();
// serialized values are unserialized with allowed_classes => false (no object of any class is ever instantiated, so no
// __wakeup/__destruct runs), rewritten recursively and serialized again with every string length recomputed.
// Included by pl-wp.php; tested by tests/unit/search-replace.test.ts.
// Managed by Pressluft (pressluft-helper role); do not edit on a node.

/**
 * The forms of the source URL to replace, each with its target: as written, JSON-escaped ("https:\/\/example.com",
 * block markup and JSON options) and URL-encoded ("https%3A%2F%2Fexample.com", share links and redirect parameters,
 * upper- and lower-case escapes).
 *
 * @return array<string,string>
 */
function pl_replace_pairs(string $from, string $to): array
{
    $pairs = [$from => $to];
    $jsonFrom = str_replace('/', '\\/', $from);
    if ($jsonFrom !== $from) {
        $pairs[$jsonFrom] = str_replace('/', '\\/', $to);
    }
    $encodedFrom = rawurlencode($from);
    if ($encodedFrom !== $from) {
        $pairs[$encodedFrom] = rawurlencode($to);
        // Lower-case escapes (https%3a%2f%2f) are just as valid and some encoders write them.
        $pairs[strtolower($encodedFrom)] = rawurlencode($to);
    }
    return $pairs;
}

final class PlReplacer
{
    public int $unparsable = 0;

    /** @param array<string,string> $pairs */
    public function __construct(private array $pairs)
    {
    }

    public function value(string $value): string
    {
        $trimmed = trim($value);
        if ($this->looksSerialized($trimmed)) {
            // Custom-serialized objects (C:) and enums (E:) cannot be rebuilt without their classes.
            if (preg_match('/(^|[;{}])[CE]:\d+:"/', $trimmed)) {
                $this->unparsable++;
                return $value;
            }
            // allowed_classes => false: objects never wake up (no __wakeup/__destruct gadgets);
            // they come back as __PHP_Incomplete_Class and are written back by serializeValue().
            $data = @unserialize($trimmed, ['allowed_classes' => false]);
            if ($data === false && $trimmed !== 'b:0;') {
                $this->unparsable++;
                return $value;
            }
            return $this->serializeValue($this->walk($data));
        }
        return strtr($value, $this->pairs);
    }

    // Same rules as WordPress's is_serialized(): a plain string that merely starts with "s:" or
    // "i:" is not treated as serialized.
    private function looksSerialized(string $v): bool
    {
        if ($v === 'N;') {
            return true;
        }
        if (strlen($v) < 4 || $v[1] !== ':' || !in_array(substr($v, -1), [';', '}'], true)) {
            return false;
        }
        return match ($v[0]) {
            's' => substr($v, -2, 1) === '"' && (bool) preg_match('/^s:\d+:"/s', $v),
            'a', 'O', 'C', 'E' => (bool) preg_match('/^' . $v[0] . ':\d+:/s', $v),
            'b' => (bool) preg_match('/^b:[01];$/', $v),
            'i', 'd' => (bool) preg_match('/^' . $v[0] . ':[0-9.E+-]+;$/', $v),
            default => false,
        };
    }

    private function walk(mixed $data): mixed
    {
        if (is_string($data)) {
            return $this->value($data);
        }
        if (is_array($data)) {
            $out = [];
            foreach ($data as $key => $item) {
                $out[$key] = $this->walk($item);
            }
            return $out;
        }
        if (is_object($data)) {
            // Property names keep their visibility markers ("\0*\0name") in the array cast.
            $props = (array) $data;
            $class = get_class($data);
            if ($data instanceof __PHP_Incomplete_Class) {
                $class = $props['__PHP_Incomplete_Class_Name'];
                unset($props['__PHP_Incomplete_Class_Name']);
            }
            foreach ($props as $key => $item) {
                $props[$key] = $this->walk($item);
            }
            return new PlObject($class, $props);
        }
        return $data;
    }

    private function serializeValue(mixed $data): string
    {
        if ($data instanceof PlObject) {
            $body = '';
            foreach ($data->props as $key => $item) {
                $body .= serialize((string) $key) . $this->serializeValue($item);
            }
            return 'O:' . strlen($data->class) . ':"' . $data->class . '":' . count($data->props) . ':{' . $body . '}';
        }
        if (is_array($data)) {
            $body = '';
            foreach ($data as $key => $item) {
                $body .= serialize($key) . $this->serializeValue($item);
            }
            return 'a:' . count($data) . ':{' . $body . '}';
        }
        return serialize($data);
    }
}

final class PlObject
{
    public function __construct(public string $class, public array $props)
    {
    }
}
