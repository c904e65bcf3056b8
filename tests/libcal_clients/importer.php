<?php
// A content-management importer as Drupal and WordPress sites run them
// against LibCal, in PHP 8: a token first (curl with an array body, which
// curl sends as multipart/form-data), then every event page by page with
// Bearer, reading the keys such importers read (future_dates is counted,
// campus.name and category names are read), under the /api/1.1/ prefix.
// Prints one line per event: id|title|campus|categories|future dates.
//
// usage: php importer.php BASE CLIENT_ID CLIENT_SECRET CAL_ID DATE DAYS
declare(strict_types=1);

[, $base, $clientId, $secret, $calId, $date, $days] = $argv;
$api = "$base/api/1.1";

function call(string $url, array $opts = []): array {
    $ch = curl_init($url);
    curl_setopt_array($ch, $opts + [CURLOPT_RETURNTRANSFER => true]);
    $body = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    if ($status !== 200) {
        throw new RuntimeException("$url answered $status: $body");
    }
    return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
}

$token = call("$api/oauth/token", [CURLOPT_POST => true, CURLOPT_POSTFIELDS => [
    'client_id' => $clientId, 'client_secret' => $secret,
    'grant_type' => 'client_credentials']])['access_token'];
$auth = [CURLOPT_HTTPHEADER => ["Authorization: Bearer $token"]];

$cats = call("$api/categories/$calId", $auth)[0]['categories'];
fwrite(STDERR, count($cats) . " categories\n");

$limit = 2;
for ($page = 1; ; $page++) {
    $q = http_build_query(['cal_id' => $calId, 'date' => $date, 'days' => $days,
                           'limit' => $limit, 'page' => $page]);
    $events = call("$api/events?$q", $auth)['events'];
    foreach ($events as $e) {
        $names = implode(',', array_map(fn($c) => $c['name'], $e['category']));
        printf("%d|%s|%s|%s|%d\n", $e['id'], $e['title'], $e['campus']['name'],
               $names, count($e['future_dates']));
    }
    if (count($events) < $limit || $page > 100) {
        break;
    }
}
