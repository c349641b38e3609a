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
 * Version information for the LMS Bridge companion plugin.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_lmsbridge';
$plugin->version   = 2026112301;
$plugin->requires  = 2022112800;      // Moodle 4.1 LTS.
$plugin->supported = [401, 501];      // Moodle 4.1 to 5.1.
$plugin->maturity  = MATURITY_BETA;
$plugin->release   = '0.1.1';
