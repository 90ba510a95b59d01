<?php
/**
 * Plugin Name: Pressluft magic login
 * Description: Redeems one-time login links created by the Pressluft control plane (wp-login.php?pressluft_magic=<token>).
 * Version: 1.0.0
 *
 * Managed by Pressluft: copied into every release; changes are overwritten by the next release.
 * Tokens are created by the node helper (pl-wp.php magic-login-token): 32 random bytes, stored only
 * as their SHA-256 in a 60-second transient bound to the first administrator.
 */

if (!defined('ABSPATH')) {
    exit;
}

add_action('login_init', static function (): void {
    if (!isset($_GET['pressluft_magic']) || !is_string($_GET['pressluft_magic'])) {
        return;
    }
    nocache_headers();
    $token = wp_unslash($_GET['pressluft_magic']);
    $user = null;
    if (preg_match('/^[A-Za-z0-9_-]{43}$/', $token)) {
        $key = 'pressluft_magic_' . hash('sha256', $token);
        $grant = get_transient($key);
        // Single use: the grant is deleted before it is checked, so a replayed or raced link fails.
        delete_transient($key);
        if (is_array($grant) && isset($grant['user_id'], $grant['expires']) && (int) $grant['expires'] >= time()) {
            $candidate = get_user_by('id', (int) $grant['user_id']);
            if ($candidate instanceof WP_User && user_can($candidate, 'manage_options')) {
                $user = $candidate;
            }
        }
    }
    if ($user === null) {
        wp_die(
            esc_html__('This login link is invalid or has expired. Request a new one from Pressluft.'),
            esc_html__('Login link expired'),
            ['response' => 403]
        );
    }
    wp_set_current_user($user->ID);
    wp_set_auth_cookie($user->ID, false, is_ssl());
    do_action('wp_login', $user->user_login, $user);
    wp_safe_redirect(admin_url());
    exit;
});
