#ifndef CNCURSESW_SHIM_H
#define CNCURSESW_SHIM_H
/* SwiftPM drops pkg-config's -D_XOPEN_SOURCE=600, so the wide-char API is switched on here, before curses.h. */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <wchar.h>
#include <langinfo.h>
#include <string.h>
#include <sys/ioctl.h>
#include <malloc.h>
#include <ncursesw/curses.h>

/* What Swift cannot import from curses.h: NCURSES_BITS attribute macros, mouse-mask macros, and the
   globals Swift 6 rejects as shared mutable state (stdscr, COLORS, COLOR_PAIRS). ioctl is variadic. */
static inline attr_t hangar_nc_bold(void)      { return A_BOLD; }
static inline attr_t hangar_nc_reverse(void)   { return A_REVERSE; }
static inline attr_t hangar_nc_underline(void) { return A_UNDERLINE; }
static inline attr_t hangar_nc_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }

static inline WINDOW *hangar_nc_stdscr(void) { return stdscr; }
static inline int hangar_nc_colors(void)      { return COLORS; }
static inline int hangar_nc_color_pairs(void) { return COLOR_PAIRS; }

static inline mmask_t hangar_nc_mouse_mask(void) {
    return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED;
}
static inline mmask_t hangar_nc_button1(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline mmask_t hangar_nc_wheel_up(void)   { return BUTTON4_PRESSED; }
static inline mmask_t hangar_nc_wheel_down(void) { return BUTTON5_PRESSED; }

/* The terminal's size from the kernel, for SIGWINCH handled outside ncurses. */
static inline int hangar_nc_terminal_size(int fd, int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

/* Terminal cells of one character in the current locale (-1 when the locale does not know it). */
static inline int hangar_wcwidth(unsigned int c) { return wcwidth((wchar_t)c); }

/* One malloc arena, trimmed past `trim` bytes: the UI's resident memory without per-thread arenas (malloc.h is
   not in Swift's Glibc module). */
static inline void hangar_limit_allocator(int trim) {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TRIM_THRESHOLD, trim);
}

/* Whether the locale's character set is UTF-8 (after setlocale(LC_ALL, "")). */
static inline int hangar_nc_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}
#endif
