<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * Web-service functions and the predefined "LMS Bridge" service.
 *
 * @package    local_lmsbridge
 * @category   webservice
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_lmsbridge_restore_cartridge' => [
        'classname' => 'local_lmsbridge\external\restore_cartridge',
        'methodname' => 'execute',
        'description' => 'Queue the restore of a Common Cartridge 1.0/1.1 from the caller\'s draft area into a course.',
        'type' => 'write',
        'capabilities' => 'moodle/restore:restorecourse, local/lmsbridge:restorecartridge, moodle/course:create',
    ],
    'local_lmsbridge_get_restore_status' => [
        'classname' => 'local_lmsbridge\external\get_restore_status',
        'methodname' => 'execute',
        'description' => 'Report the state of a queued cartridge restore and, once done, the course\'s sections and activities.',
        'type' => 'read',
        'capabilities' => 'local/lmsbridge:restorecartridge',
    ],
    'local_lmsbridge_set_section_names' => [
        'classname' => 'local_lmsbridge\external\set_section_names',
        'methodname' => 'execute',
        'description' => 'Set the names (and optionally the summaries) of course sections by section number.',
        'type' => 'write',
        'capabilities' => 'moodle/course:update',
    ],
];

$services = [
    'LMS Bridge' => [
        'shortname' => 'lmsbridge',
        'functions' => [
            'core_webservice_get_site_info',
            'local_lmsbridge_restore_cartridge',
            'local_lmsbridge_get_restore_status',
            'local_lmsbridge_set_section_names',
        ],
        // Only users the administrator authorises may use the service.
        'restrictedusers' => 1,
        'enabled' => 0,
        // The cartridge arrives through /webservice/upload.php.
        'uploadfiles' => 1,
        'downloadfiles' => 1,
    ],
];
