/* Fast deterministic data generator for bench/run (compiled on the fly with cc).
 *
 *   gen ads ROWS OUT.csv        ad-platform CSV like seed 002's meta_ads.csv; prints the
 *                               exact answers as JSON on stdout
 *   gen fk KEYS ROWS KEYS.csv REFS.csv   lead keys and test drives referencing them
 *                               (some orphans); prints {"orphans": N}
 *   gen flood BYTES OUT.txt     coloured log lines, at least BYTES bytes
 *   gen lines N OUT.txt         N coloured log lines
 *
 * Python would take minutes for 1 GB; this takes seconds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x9E3779B97F4A7C15ull;
static inline uint64_t rnd(void) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}
static inline uint64_t below(uint64_t n) { return rnd() % n; }

static FILE *open_out(const char *p) {
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static char dates[365][16];
static void init_dates(void) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int d = 0;
    for (int m = 0; m < 12; m++)
        for (int i = 1; i <= mdays[m]; i++, d++)
            snprintf(dates[d], sizeof dates[d], "2025-%02d-%02d", m + 1, i);
}

static int ads(long rows, const char *out) {
    static const char *platforms[] = {"Facebook", "Instagram"};
    static const char *objectives[] = {"awareness", "traffic", "lead_gen", "conversions"};
    static const char *markets[] = {"UK", "DE", "FR", "IT", "ES"};
    static const char *models[] = {"Aster", "Boreal", "Cirrus", "Delta EV"};
    FILE *f = open_out(out);
    init_dates();
    fputs("date,campaign_name,campaign_id,platform,objective,market,model,impressions,clicks,"
          "ctr,cpm,cpc,spend,reach,frequency,video_views,video_view_rate,leads,link_clicks,"
          "landing_page_views,cost_per_lead\n",
          f);
    long long spend_cents = 0, uk = 0;
    int dmin = 364, dmax = 0;
    for (long r = 0; r < rows; r++) {
        int d = (int)below(365);
        if (d < dmin) dmin = d;
        if (d > dmax) dmax = d;
        int mk = (int)below(5), ob = (int)below(4), md = (int)below(4), pl = (int)below(2);
        int camp = (int)below(400);
        if (mk == 0) uk++;
        long imp = 1000 + (long)below(200000);
        long clicks = imp / 100 + (long)below(500);
        long cents = 1000 + (long)below(500000);
        spend_cents += cents;
        long leads = (long)below(60) + 1;
        long reach = imp * 7 / 10;
        long vv = (long)below(imp / 2 + 1);
        char name[96];
        /* A quarter of the names hold commas, so they are quoted. */
        if (camp % 4 == 0)
            snprintf(name, sizeof name, "\"Meta, %s, %s - %s #%d\"", markets[mk], models[md],
                     objectives[ob], camp);
        else
            snprintf(name, sizeof name, "Meta_%s_%s_%s_%d", markets[mk], models[md],
                     objectives[ob], camp);
        double ctr = (double)clicks / (double)imp;
        fprintf(f,
                "%s,%s,META-%06d,%s,%s,%s,%s,%ld,%ld,%.4f,%.2f,%.2f,%ld.%02ld,%ld,%.2f,%ld,%.4f,"
                "%ld,%ld,%ld,%.2f\n",
                dates[d], name, camp, platforms[pl], objectives[ob], markets[mk], models[md], imp,
                clicks, ctr, cents * 10.0 / (double)imp, cents / 100.0 / (double)clicks,
                cents / 100, cents % 100, reach, (double)imp / (double)reach, vv,
                (double)vv / (double)imp, leads, clicks * 9 / 10, clicks * 8 / 10,
                cents / 100.0 / (double)leads);
    }
    if (fclose(f)) {
        perror(out);
        return 1;
    }
    printf("{\"rows\": %ld, \"spend_cents\": %lld, \"uk_rows\": %lld, \"min_date\": \"%s\", "
           "\"max_date\": \"%s\"}\n",
           rows, spend_cents, uk, dates[dmin], dates[dmax]);
    return 0;
}

static int fk(long keys, long rows, const char *kout, const char *rout) {
    static const char *markets[] = {"UK", "DE", "FR", "IT", "ES"};
    FILE *k = open_out(kout), *r = open_out(rout);
    init_dates();
    fputs("lead_id,created_date,market,source\n", k);
    for (long i = 0; i < keys; i++)
        fprintf(k, "L%08ld,%s,%s,%s\n", i, dates[below(365)], markets[below(5)],
                below(2) ? "web" : "dealer");
    long orphans = 0;
    fputs("test_drive_id,lead_id,date,dealer_id\n", r);
    for (long i = 0; i < rows; i++) {
        long id;
        if (below(1000) == 0) { /* 0.1% orphans: ids past the last key */
            id = keys + (long)below(keys);
            orphans++;
        } else {
            id = (long)below(keys);
        }
        fprintf(r, "TD%08ld,L%08ld,%s,D%03d\n", i, id, dates[below(365)], (int)below(120));
    }
    if (fclose(k) || fclose(r)) {
        perror("fk");
        return 1;
    }
    printf("{\"orphans\": %ld}\n", orphans);
    return 0;
}

static const char *colors[] = {"\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[1;31m", "\x1b[35m"};
static const char *levels[] = {"INFO ", "WARN ", "DEBUG", "ERROR", "TRACE"};

static long line(FILE *f, long i) {
    int c = (int)below(5);
    return fprintf(f,
                   "\x1b[2m2025-06-%02ld %02ld:%02ld:%02ld\x1b[0m %s%s\x1b[0m worker-%ld "
                   "processed batch %ld: rows=%ld bytes=%ld \x1b[1mok\x1b[0m lorem ipsum dolor "
                   "sit amet\n",
                   1 + i % 28, (i / 3600) % 24, (i / 60) % 60, i % 60, colors[c], levels[c],
                   (long)below(16), i, (long)below(100000), (long)below(10000000));
}

static int flood(long bytes, const char *out) {
    FILE *f = open_out(out);
    long n = 0;
    for (long i = 0; n < bytes; i++) n += line(f, i);
    return fclose(f) ? 1 : 0;
}

static int lines(long count, const char *out) {
    FILE *f = open_out(out);
    for (long i = 0; i < count; i++) line(f, i);
    return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "ads")) return ads(atol(argv[2]), argv[3]);
    if (argc == 6 && !strcmp(argv[1], "fk")) return fk(atol(argv[2]), atol(argv[3]), argv[4], argv[5]);
    if (argc == 4 && !strcmp(argv[1], "flood")) return flood(atol(argv[2]), argv[3]);
    if (argc == 4 && !strcmp(argv[1], "lines")) return lines(atol(argv[2]), argv[3]);
    fprintf(stderr, "usage: gen ads ROWS OUT | fk KEYS ROWS KEYS_OUT REFS_OUT | flood BYTES OUT | lines N OUT\n");
    return 2;
}
