/**
 * The web page is on by default (127.0.0.1:8080). Every bench bridge serves it on an ephemeral
 * port instead, so bridges running side by side each have theirs, at the default's cost, and none
 * collides with another program on 8080.
 */
export const WEB_ON_ANY_PORT = 'web.listen=127.0.0.1:0';
